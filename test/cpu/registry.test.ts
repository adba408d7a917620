// The target registry, and `sganc eval --target cpu` run as a user runs it: the CLI in a child
// process on temp files.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/runtime/safetensors.ts';
import { getTarget, resolveTargetName } from '../../targets/index.ts';
import { uniformSource } from '../ref/helpers.ts';

describe('target registry', () => {
  it('auto resolves to cpu', () => {
    expect(resolveTargetName('auto')).toBe('cpu');
    expect(getTarget('auto').name).toBe('cpu');
  });

  it('ref and cpu are available', () => {
    expect(getTarget('ref').name).toBe('ref');
    expect(getTarget('cpu', { threads: 1 }).name).toBe('cpu');
  });

  it('every named target resolves', () => {
    for (const name of ['ref', 'cpu', 'wgsl', 'webgl'] as const) expect(resolveTargetName(name)).toBe(name);
  });

  it('unknown names list the known ones', () => {
    expect(() => getTarget('gpu')).toThrow("unknown target 'gpu'; expected one of auto, ref, cpu, wgsl, webgl");
  });

  it('invalid thread counts are rejected', () => {
    expect(() => getTarget('cpu', { threads: 0 })).toThrow('invalid thread count 0');
  });
});

const dir = mkdtempSync(join(tmpdir(), 'sganc-cpu-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sganc(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/sganc.mjs', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('sganc eval --target cpu', () => {
  const model = 'examples/fashion-32.sgan';
  const params = join(dir, 'params.safetensors');
  const inputs = join(dir, 'x.safetensors');

  it('writes the discriminator gradients of ref within tolerance', () => {
    expect(sganc('init', model, '--out', params, '--seed', '2').status).toBe(0);
    const next = uniformSource(5);
    writeSafetensors(inputs, { x: { shape: [2, 1, 16, 16], data: Float32Array.from({ length: 512 }, () => next(-1, 1)) } });

    const outputs: Record<string, ReturnType<typeof readSafetensors>> = {};
    for (const [target, threads] of [['ref', '1'], ['cpu', '2']] as const) {
      const out = join(dir, `${target}.safetensors`);
      const args = ['--network', 'discriminator', '--stage', '16', '--grad', '--target', target, '--threads', threads];
      const run = sganc('eval', model, ...args, '--params', params, '--inputs', inputs, '--out', out);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      outputs[target] = readSafetensors(out);
    }

    expect(outputs.cpu!.metadata.target).toBe('cpu');
    const expected = outputs.ref!.tensors;
    const actual = outputs.cpu!.tensors;
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, tensor] of Object.entries(expected)) {
      const scale = Math.max(...tensor.data.map(Math.abs));
      const worst = Math.max(...tensor.data.map((value, i) => Math.abs(actual[name]!.data[i]! - value)));
      expect(worst, name).toBeLessThanOrEqual(5e-3 * scale + 1e-7);
    }
  });

  it('rejects a zero thread count with exit 2', () => {
    const run = sganc('eval', model, '--network', 'mapping', '--target', 'cpu', '--threads', '0', '--params', params, '--inputs', inputs, '--out', join(dir, 'o'));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--threads must be an integer >= 1, got '0'");
  });
});
