// The fashion-32 training steps on the cpu target against the reference executor, and the cpu
// target's results on one and on two threads.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { type Graph, numel } from '../../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGeneratorStep } from '../../src/layers/programs.ts';
import { initParams } from '../../src/params/init.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runGraph } from '../../targets/ref/index.ts';
import { uniformSource } from '../ref/helpers.ts';
import { cpu1, cpu2 } from './helpers.ts';

const checked = checkFile('examples/fashion-32.sgan');
const spec = checked.spec!;
const params = initParams(spec, 3);
const BATCH = 4;

/** Feeds the parameters and every other input: RNG keys 7, mixing and truncation off, the rest uniform in [-1, 1). */
function stepFeeds(graph: Graph): TensorMap {
  const next = uniformSource(99);
  const feeds: TensorMap = { ...params };
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = new Float32Array(numel(shape));
    if (name.endsWith('key')) data.fill(7);
    else if (name === 'mix') data.fill(0);
    else if (name === 'trunc') data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = next(-1, 1);
    feeds[name] = { shape, data };
  }
  return feeds;
}

/**
 * Asserts every output within 5e-3 of its own largest magnitude plus 1e-5 of the largest magnitude
 * over all outputs. The second term covers gradients that nearly cancel, such as the bias just before
 * an instance norm, where float32 and float64 sums legitimately differ in every digit.
 */
function expectClose(actual: TensorMap, expected: TensorMap): void {
  const names = Object.keys(expected);
  expect(Object.keys(actual).sort()).toEqual([...names].sort());
  const overall = Math.max(...names.map((name) => Math.max(...expected[name]!.data.map(Math.abs))));
  const failures: string[] = [];
  for (const name of names) {
    const want = expected[name]!.data;
    const got = actual[name]!.data;
    const own = Math.max(...want.map(Math.abs));
    const bound = 5e-3 * own + 1e-5 * overall;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    if (!(worst <= bound)) failures.push(`${name}: error ${worst}, bound ${bound}`);
  }
  expect(failures).toEqual([]);
}

function expectIdentical(a: TensorMap, b: TensorMap): void {
  for (const name of Object.keys(a)) {
    const x = a[name]!.data;
    const y = b[name]!.data;
    const differing = [...x.keys()].filter((i) => !Object.is(x[i], y[i]));
    expect(differing.length, `${name} differs at ${differing.slice(0, 3).join(', ')}`).toBe(0);
  }
}

describe('cpu fashion-32 steps', () => {
  const generator = buildGeneratorStep(spec, { stage: 32, batch: BATCH, fading: true });
  const discriminator = buildDiscriminatorStep(spec, { stage: 32, batch: BATCH, fading: true, r1Gamma: spec.train.r1Gamma });

  it('generator step equals ref within tolerance', async () => {
    const feeds = stepFeeds(generator);
    expectClose(await cpu2.compile(generator, 'g').run(feeds), runGraph(generator, feeds));
  });

  it('discriminator step with R1 equals ref within tolerance', async () => {
    const feeds = stepFeeds(discriminator);
    expectClose(await cpu2.compile(discriminator, 'd').run(feeds), runGraph(discriminator, feeds));
  });

  it('one and two threads give identical results', async () => {
    for (const graph of [generator, discriminator]) {
      const feeds = stepFeeds(graph);
      const one = await cpu1.compile(graph, 'step').run(feeds);
      const two = await cpu2.compile(graph, 'step').run(feeds);
      expectIdentical(one, two);
    }
  });

  it('a second run of a program gives the same results', async () => {
    const program = cpu2.compile(generator, 'g');
    const feeds = stepFeeds(generator);
    const first = await program.run(feeds);
    await cpu2.compile(discriminator, 'd').run(stepFeeds(discriminator));
    expectIdentical(first, await program.run(feeds));
  });
});
