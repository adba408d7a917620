// `sganc init` and `sganc eval` run as a user runs them: the CLI in a child process on temp files.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/runtime/safetensors.ts';
import { ramp } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'sganc-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = 'examples/fashion-32.sgan';

function sganc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/sganc.mjs', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('sganc init', () => {
  it('writes every parameter, the same for the same seed', () => {
    const a = join(dir, 'a.safetensors');
    const b = join(dir, 'b.safetensors');
    const c = join(dir, 'c.safetensors');
    expect(sganc('init', model, '--out', a, '--seed', '5').status).toBe(0);
    expect(sganc('init', model, '--out', b, '--seed', '5').status).toBe(0);
    expect(sganc('init', model, '--out', c, '--seed', '6').status).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(a).equals(readFileSync(c))).toBe(false);
    const { tensors, metadata } = readSafetensors(a);
    expect(metadata).toMatchObject({ model: 'fashion32', seed: '5' });
    expect(tensors['synthesis.const']!.shape).toEqual([32, 4, 4]);
    expect(Object.keys(tensors)).toContain('discriminator.b4.dense1.weight');
  });

  it('rejects a missing --out with exit 2', () => {
    const run = sganc('init', model);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('missing required option --out');
  });
});

describe('sganc eval', () => {
  const params = join(dir, 'params.safetensors');
  const inputs = join(dir, 'z.safetensors');
  const out = join(dir, 'out.safetensors');

  it('runs the generator and writes the image', () => {
    expect(sganc('init', model, '--out', params).status).toBe(0);
    writeSafetensors(inputs, { z: ramp([2, 64]) });
    const run = sganc('eval', model, '--network', 'generator', '--stage', '16', '--alpha', '0.5', '--params', params, '--inputs', inputs, '--out', out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const { tensors, metadata } = readSafetensors(out);
    expect(tensors.image!.shape).toEqual([2, 1, 16, 16]);
    expect(metadata).toMatchObject({ network: 'generator', stage: '16', alpha: '0.5', noise_key: '0' });
  });

  it('names the tensor and both shapes on a shape error', () => {
    writeSafetensors(inputs, { z: ramp([2, 63]) });
    const run = sganc('eval', model, '--network', 'mapping', '--params', params, '--inputs', inputs, '--out', out);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${inputs}: input tensor 'z' has shape [2, 63], expected [2, 64]`);
  });

  it('rejects a missing --stage with exit 2', () => {
    writeSafetensors(inputs, { x: ramp([2, 1, 8, 8]) });
    const run = sganc('eval', model, '--network', 'discriminator', '--params', params, '--inputs', inputs, '--out', out);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('missing --stage for the discriminator network (stages: 4, 8, 16, 32)');
  });

  it('rejects a stage the model lacks with exit 1', () => {
    writeSafetensors(inputs, { x: ramp([2, 1, 64, 64]) });
    const run = sganc('eval', model, '--network', 'discriminator', '--stage', '64', '--params', params, '--inputs', inputs, '--out', out);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('stage 64 is not a resolution of model fashion32 (stages: 4, 8, 16, 32)');
  });

  it('rejects an unknown target with exit 2', () => {
    const run = sganc('eval', model, '--network', 'mapping', '--target', 'metal', '--params', params, '--inputs', inputs, '--out', out);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown target 'metal'; expected one of auto, ref, cpu, wgsl, webgl");
  });

  it('rejects --grad with --r1 with exit 2', () => {
    const run = sganc('eval', model, '--network', 'discriminator', '--stage', '8', '--grad', '--r1', '--params', params, '--inputs', inputs, '--out', out);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--grad and --r1 both write grad.<name>');
  });
});
