// `sganc eval --target webgl` against `--target ref` on fashion-32, and the kernel files that
// `sganc compile --target webgl` writes. Eval runs the webgl target's default mode: headless-gl
// under the test display, or gpu.js cpu mode after a notice where there is none.
//
// The parameters are perturbed from their initial values. At initialization the 4x4 constant is all
// ones and the noise strengths are 0, so the first instance norm normalizes rows of equal values,
// whose variance is zero. The gradient of the summed image with respect to that constant and those strengths
// then divides float32 rounding differences by sqrt(1e-8), and no two float32 orders of summation
// agree on it (the cpu target differs from ref there as well). With a varied constant every
// gradient is well conditioned, and the tolerance of test/webgl/steps.test.ts applies.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { compileCommand } from '../../src/cli/commands/compile.ts';
import { type EvalOptions, evaluate } from '../../src/cli/commands/eval.ts';
import { initParams } from '../../src/params/init.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { uniformSource } from '../ref/helpers.ts';

const FILE = 'examples/fashion-32.sgan';
const spec = checkFile(FILE).spec!;
const STAGE = 8;

function perturbedParams(): TensorMap {
  const params = initParams(spec, 3);
  const next = uniformSource(5);
  params['synthesis.const']!.data.forEach((_, i, data) => (data[i] = next(0.5, 1.5)));
  for (const [name, tensor] of Object.entries(params)) if (name.endsWith('strength')) tensor.data.fill(0.1);
  return params;
}

function inputs(name: string, shape: number[]): TensorMap {
  const next = uniformSource(17);
  const data = Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, () => next(-1, 1));
  return { [name]: { shape, data } };
}

function options(network: string, target: string, extra: Partial<EvalOptions>): EvalOptions {
  return { file: FILE, network, stage: STAGE, params: '', inputs: '', out: '', grad: false, r1: false, seed: 5, target, ...extra };
}

/** Asserts every output within 5e-3 of its own largest magnitude plus 1e-5 of the largest over all outputs. */
function expectClose(actual: TensorMap, expected: TensorMap): void {
  const names = Object.keys(expected);
  expect(Object.keys(actual).sort()).toEqual([...names].sort());
  const overall = Math.max(...names.map((name) => Math.max(...expected[name]!.data.map(Math.abs))));
  const failures: string[] = [];
  for (const name of names) {
    const own = Math.max(...expected[name]!.data.map(Math.abs));
    const bound = 5e-3 * own + 1e-5 * overall;
    let worst = 0;
    expected[name]!.data.forEach((value, i) => (worst = Math.max(worst, Math.abs(actual[name]!.data[i]! - value))));
    if (!(worst <= bound)) failures.push(`${name}: error ${worst}, bound ${bound}`);
  }
  expect(failures).toEqual([]);
}

describe('sganc eval --target webgl', () => {
  const params = perturbedParams();

  it('generator with --grad equals ref within tolerance', async () => {
    const z = inputs('z', [2, spec.zDim]);
    const webgl = await evaluate(spec, options('generator', 'webgl', { grad: true }), params, z);
    const ref = await evaluate(spec, options('generator', 'ref', { grad: true }), params, z);
    expect(webgl.metadata.target).toBe('webgl');
    expectClose(webgl.outputs, ref.outputs);
  });

  it('discriminator with --grad and with --r1 equals ref within tolerance', async () => {
    const x = inputs('x', [2, spec.imageChannels, STAGE, STAGE]);
    for (const extra of [{ grad: true }, { r1: true }]) {
      const webgl = await evaluate(spec, options('discriminator', 'webgl', extra), params, x);
      const ref = await evaluate(spec, options('discriminator', 'ref', extra), params, x);
      expectClose(webgl.outputs, ref.outputs);
    }
  });
});

describe('sganc compile --target webgl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sganc-webgl-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a kernel module per program and an index', async () => {
    expect(await compileCommand([FILE, '--target', 'webgl', '--out', dir])).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { target: string; programs: unknown[] };
    expect(manifest.target).toBe('webgl');
    const index = JSON.parse(readFileSync(join(dir, 'kernels', 'index.json'), 'utf8')) as {
      programs: { file: string; steps: { name?: string; output?: [number, number] }[] }[];
    };
    expect(index.programs).toHaveLength(manifest.programs.length);
    const files = readdirSync(join(dir, 'kernels')).filter((name) => name.endsWith('.js'));
    expect(files.sort()).toEqual(index.programs.map((p) => p.file).sort());
    // Every kernel the index lists is exported by its program's module as a gpu.js kernel function.
    const first = index.programs[0]!;
    const module = (await import(join(dir, 'kernels', first.file))) as Record<string, unknown>;
    for (const step of first.steps) {
      if (step.name === undefined) continue;
      expect(typeof module[step.name]).toBe('function');
      expect(step.output![0] * step.output![1]).toBeGreaterThan(0);
    }
  });
});
