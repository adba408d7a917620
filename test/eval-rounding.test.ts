// The comparison rule of docs/eval.md on freshly initialised parameters: the cpu target against
// ref on the fashion-32 generator with --grad. The gradients of the constant and of the first noise
// strengths are rounding noise there and fail the per-tensor bound, so they are held to 1e-3 of the
// largest gradient instead.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../src/check/index.ts';
import { type EvalOptions, evaluate } from '../src/cli/commands/eval.ts';
import { initParams } from '../src/params/init.ts';
import type { TensorMap } from '../src/runtime/tensor.ts';
import { uniformSource } from './ref/helpers.ts';

const FILE = 'examples/fashion-32.sgan';
const ROUNDING_LEVEL = ['grad.synthesis.b4.noise0.strength', 'grad.synthesis.const'];

function largest(data: Float32Array): number {
  return data.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
}

function worstDifference(actual: Float32Array, expected: Float32Array): number {
  return expected.reduce((worst, value, i) => Math.max(worst, Math.abs(actual[i]! - value)), 0);
}

describe('eval comparison at initialisation', () => {
  it('cpu gradients follow the documented rule', async () => {
    const spec = checkFile(FILE).spec!;
    const params = initParams(spec, 0);
    const next = uniformSource(11);
    const z: TensorMap = { z: { shape: [2, spec.zDim], data: Float32Array.from({ length: 2 * spec.zDim }, () => next(-2, 2)) } };
    const options = (target: string): EvalOptions => ({
      file: FILE, network: 'generator', stage: 32, params: '', inputs: '', out: '', grad: true, r1: false, seed: 0, target, threads: 1,
    });
    const ref = (await evaluate(spec, options('ref'), params, z)).outputs;
    const cpu = (await evaluate(spec, options('cpu'), params, z)).outputs;

    const names = Object.keys(ref);
    const overall = Math.max(...names.map((name) => largest(ref[name]!.data)));
    const largestGradient = Math.max(...names.filter((name) => name.startsWith('grad.')).map((name) => largest(ref[name]!.data)));
    const misses: string[] = [];
    for (const name of names) {
      const worst = worstDifference(cpu[name]!.data, ref[name]!.data);
      if (!(worst <= 5e-3 * largest(ref[name]!.data) + 1e-5 * overall)) misses.push(name);
    }
    // Only the documented exceptions may fail the per-tensor bound; on this run both do.
    expect(misses.filter((name) => !ROUNDING_LEVEL.includes(name))).toEqual([]);
    for (const name of ROUNDING_LEVEL) {
      expect(largest(ref[name]!.data), name).toBeLessThan(1e-3 * largestGradient);
      expect(worstDifference(cpu[name]!.data, ref[name]!.data), name).toBeLessThanOrEqual(1e-3 * largestGradient);
    }
  });
});
