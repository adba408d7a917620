// The interface every execution target implements: compile a primitive graph once, run it many
// times. Feeds and results are keyed by input, parameter and output names.

import type { Graph } from '../ir/graph.ts';
import type { TensorMap } from './tensor.ts';

export interface CompiledProgram {
  readonly graph: Graph;
  /** Runs the graph. `feeds` contains every input and parameter by name, the result every output. */
  run(feeds: TensorMap): Promise<TensorMap>;
}

export interface Target {
  readonly name: string;
  compile(graph: Graph, name: string): CompiledProgram;
}
