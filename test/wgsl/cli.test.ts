// The wgsl target through the command line: sganc eval on WebGPU against the reference, the cpu
// fallback of --target auto without an adapter, and sganc compile's WGSL files.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/runtime/safetensors.ts';

const MODEL = 'examples/fashion-32.sgan';
const dir = mkdtempSync(join(tmpdir(), 'sganc-wgsl-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sganc(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/sganc.mjs', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function mappingFiles(): { params: string; inputs: string } {
  const params = join(dir, 'params.safetensors');
  const inputs = join(dir, 'z.safetensors');
  if (!existsSync(params)) {
    expect(sganc(['init', MODEL, '--out', params, '--seed', '4']).status).toBe(0);
    const z = Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i * 0.37));
    writeSafetensors(inputs, { z: { shape: [3, 64], data: z } }, {});
  }
  return { params, inputs };
}

function evalMapping(target: string, out: string, env: Record<string, string> = {}): ReturnType<typeof sganc> {
  const { params, inputs } = mappingFiles();
  return sganc(['eval', MODEL, '--network', 'mapping', '--params', params, '--inputs', inputs, '--out', out, '--target', target, '--grad'], env);
}

describe('wgsl from the command line', () => {
  it('eval --target wgsl equals --target ref', () => {
    const ref = join(dir, 'ref.safetensors');
    const gpu = join(dir, 'wgsl.safetensors');
    expect(evalMapping('ref', ref).status).toBe(0);
    const run = evalMapping('wgsl', gpu);
    expect(run.stderr).toContain('sganc: WebGPU adapter: ');
    expect(run.status).toBe(0);
    const expected = readSafetensors(ref).tensors;
    const actual = readSafetensors(gpu);
    expect(actual.metadata.target).toBe('wgsl');
    expect(Object.keys(actual.tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, tensor] of Object.entries(expected)) {
      const own = Math.max(...tensor.data.map(Math.abs));
      const worst = Math.max(...tensor.data.map((v, i) => Math.abs(v - actual.tensors[name]!.data[i]!)));
      expect(worst, name).toBeLessThanOrEqual(1e-4 * own);
    }
  });

  it('eval --target wgsl without an adapter exits 1', () => {
    const run = evalMapping('wgsl', join(dir, 'none.safetensors'), { SGAN_NO_WEBGPU: '1' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('sganc eval: error: no WebGPU adapter');
  });

  it('eval --target auto without an adapter runs on cpu', () => {
    const out = join(dir, 'auto.safetensors');
    expect(evalMapping('auto', out, { SGAN_NO_WEBGPU: '1' }).status).toBe(0);
    expect(readSafetensors(out).metadata.target).toBe('cpu');
  });

  it('compile --target wgsl writes one WGSL file per kernel', () => {
    const out = join(dir, 'compiled');
    const run = sganc(['compile', MODEL, '--target', 'wgsl', '--out', out]);
    expect(run.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { target: string; programs: { kernels: number }[] };
    expect(manifest.target).toBe('wgsl');
    const files = readdirSync(join(out, 'kernels')).filter((file) => file.endsWith('.wgsl'));
    expect(files.length).toBe(manifest.programs.reduce((sum, p) => sum + p.kernels, 0));
    const index = JSON.parse(readFileSync(join(out, 'kernels', 'index.json'), 'utf8')) as { programs: { kernels: { file: string }[] }[] };
    const first = index.programs[0]!.kernels[0]!;
    expect(readFileSync(join(out, 'kernels', first.file), 'utf8')).toMatch(/^\/\/ sganc kernel k0_/);
  });
});
