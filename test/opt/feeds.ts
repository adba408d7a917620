// Deterministic feeds for any program graph: parameters from the model's initializer, inputs from
// a ramp, with the integer and 0/1 inputs that the programs expect.

import type { Graph } from '../../src/ir/graph.ts';
import { numel } from '../../src/ir/graph.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { initParams } from '../../src/params/init.ts';
import { type TensorMap, tensor } from '../../src/runtime/tensor.ts';

/** Well-spread values in [-1, 1). */
export function ramp(shape: readonly number[], offset = 0): number[] {
  return Array.from({ length: numel(shape) }, (_, i) => Math.sin(1.7 * (i + offset) + 0.3));
}

/** Feeds every input of `graph`: noise_key 7, mix alternating 0 and 1, trunc 0.7, alpha 0.4, else ramps. */
export function inputFeeds(graph: Graph, offset = 0): TensorMap {
  const feeds: TensorMap = {};
  let k = offset;
  for (const [name, id] of graph.inputs()) {
    const shape = graph.shape(id);
    k += 37;
    if (name === 'noise_key') feeds[name] = tensor(shape, [7]);
    else if (name === 'mix') feeds[name] = tensor(shape, ramp(shape).map((_, i) => i % 2));
    else if (name === 'trunc') feeds[name] = tensor(shape, ramp(shape).map(() => 0.7));
    else if (name === 'alpha') feeds[name] = tensor(shape, [0.4]);
    else feeds[name] = tensor(shape, ramp(shape, k));
  }
  return feeds;
}

/** Feeds inputs and every parameter of `graph`: those of `spec` from its initializer with a fixed seed, others from ramps. */
export function programFeeds(spec: ModelSpec | undefined, graph: Graph): TensorMap {
  const params = spec === undefined ? {} : initParams(spec, 5);
  const feeds = inputFeeds(graph);
  let offset = 1000;
  for (const [name, id] of graph.params()) {
    offset += 53;
    const shape = graph.shape(id);
    feeds[name] = params[name] ?? tensor(shape, ramp(shape, offset));
  }
  return feeds;
}
