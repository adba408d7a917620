// Kernel counts in `sganc compile`'s manifest, the --report table, and the SGAN_DEBUG output.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatProgramTable } from '../../src/cli/commands/compile.ts';
import { type ManifestProgram, manifestPrograms } from '../../src/emit/index.ts';
import { Builder } from '../../src/ir/builder.ts';
import { compileKernels } from '../../src/opt/index.ts';
import { tinyTrainSpec } from '../train/helpers.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SGANC = join(ROOT, 'bin', 'sganc.mjs');

describe('manifest kernel counts', () => {
  it('every program has kernels and peak bytes', () => {
    const programs = manifestPrograms(tinyTrainSpec());
    // Stage 4 stable, then stage 8 fading and stable: three programs each.
    expect(programs).toHaveLength(9);
    for (const program of programs) {
      expect(program.kernels, program.name).toBeGreaterThan(0);
      expect(program.kernels * 3, program.name).toBeLessThanOrEqual(program.primitiveOps);
      expect(program.peakBytes, program.name).toBeGreaterThan(0);
      expect(program.peakBytes % 256, program.name).toBe(0);
    }
  });

  it('report table lists every program', () => {
    const programs: ManifestProgram[] = [
      { name: 'generator', stage: 8, fading: false, batch: 32, primitiveOps: 423, kernels: 29, peakBytes: 1081344 },
      { name: 'discriminator_step', stage: 16, fading: true, batch: 32, primitiveOps: 724, kernels: 154, peakBytes: 20744704 },
    ];
    const lines = formatProgramTable(programs).trimEnd().split('\n');
    expect(lines).toEqual([
      'program             stage  fading  batch  primitive ops  kernels  peak bytes',
      'generator               8      no     32            423       29     1081344',
      'discriminator_step     16     yes     32            724      154    20744704',
    ]);
  });

  it('compile --report prints the table', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sganc-opt-compile-'));
    const out = join(cwd, 'out');
    const model = join(ROOT, 'test', 'train', 'fixtures', 'tiny-8.sgan');
    const result = spawnSync(process.execPath, [SGANC, 'compile', model, '--out', out, '--report'], { cwd, encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/program +stage +fading +batch +primitive ops +kernels +peak bytes/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { programs: ManifestProgram[] };
    expect(manifest.programs).toHaveLength(9);
    for (const program of manifest.programs) {
      const row = `${program.name}`.padEnd(18);
      expect(result.stdout).toContain(row);
      expect(result.stdout).toContain(` ${program.kernels} `);
    }
  });
});

describe('SGAN_DEBUG output', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  /** Compiles a two-kernel graph under the given environment and returns what went to stderr. */
  function debugOutput(env: Record<string, string>): string {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const b = new Builder();
    const x = b.input('x', [4, 8]);
    b.output('total', b.sum(b.unary('exp', x), [1]));
    b.output('scaled', b.scale(b.unary('neg', x), 3));
    compileKernels(b.graph, undefined, { label: 'demo' });
    return written.join('');
  }

  it('level 0 prints nothing', () => {
    expect(debugOutput({ SGAN_DEBUG: '' })).toBe('');
  });

  it('level 1 prints passes and counts', () => {
    const text = debugOutput({ SGAN_DEBUG: '1' });
    for (const pass of ['simplify', 'cse', 'dce']) expect(text).toContain(`[opt] demo: ${pass}:`);
    // exp, sum, neg, and the scale's mul with the reshape and broadcast of its scalar.
    expect(text).toMatch(/\[opt\] demo: fusion: 6 primitive ops -> 2 kernels, peak \d+ bytes/);
    expect(text).not.toContain('reads [');
  });

  it('level 2 lists kernels', () => {
    const text = debugOutput({ SGAN_DEBUG: '2' });
    expect(text).toMatch(/k0_sum: reduce \[4\] \(4 elements\), reads \[b0\], writes \[b1\]/);
    expect(text).toMatch(/k1_mul: elementwise \[4, 8\]/);
    expect(text).not.toContain('store');
  });

  it('level 3 prints the IR', () => {
    expect(debugOutput({ SGAN_DEBUG: '3' })).toContain('output "total" = %');
  });

  it('level 4 prints filtered expressions', () => {
    const text = debugOutput({ SGAN_DEBUG: '4', SGAN_DEBUG_KERNEL: 'sum' });
    expect(text).toContain('store b1 = e');
    expect(text).toMatch(/e\d+ = reduceSum\(e\d+\) axes=\[1\]/);
    expect(text).not.toMatch(/e\d+ = neg/);
  });
});
