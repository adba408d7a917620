// The benchmark suite's row machinery on a 4x4 matmul: the correctness gate, the timing fields,
// the JSON rows of `npm run bench -- --json`, and the generated docs section.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BenchCase, countFlops, matmulCase } from '../../bench/suite/cases.ts';
import { sgancEngine } from '../../bench/suite/engine-sganc.ts';
import { SECTION_BEGIN, SECTION_END, writeSection } from '../../bench/suite/report.ts';
import { compareOutputs, type Engine, jsonRows, measureRow, median, plannedRuns, type TimingOptions } from '../../bench/suite/rows.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { refTarget } from '../../targets/ref/index.ts';

const TIMING: TimingOptions = { warmup: 1, minRuns: 2, maxRuns: 3, budgetMs: 10 };

/** Multiplies the case's `a` [m, k] by `b` [k, n] with the textbook triple loop. */
function handMatmul(c: BenchCase, m: number, k: number, n: number): TensorMap {
  const a = c.feeds.a!.data;
  const b = c.feeds.b!.data;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * k + p]! * b[p * n + j]!;
      out[i * n + j] = sum;
    }
  }
  return { 'matmul/out': { shape: [m, n], data: out } };
}

/** An engine that returns `make()` as the case's outputs. */
function fakeEngine(name: string, make: () => TensorMap): Engine {
  return {
    name,
    sganc: false,
    skipReason: () => undefined,
    prepare: async () => ({ run: async () => make() }),
  };
}

describe('bench rows', () => {
  const tiny = matmulCase('tiny', 'tiny', 4, 4, 4);
  const hand = handMatmul(tiny, 4, 4, 4);

  it('counts matmul flops as 2mkn', () => {
    expect(tiny.flops).toBe(2 * 4 * 4 * 4);
    expect(countFlops(tiny.programs[0]!.graph)).toBe(128);
  });

  it('times an engine that matches', async () => {
    const row = await measureRow(tiny, sgancEngine('ref', refTarget, true), hand, TIMING);
    expect(row.status).toBe('ok');
    expect(row.runs).toBeGreaterThanOrEqual(2);
    expect(row.runs).toBeLessThanOrEqual(3);
    expect(row.ms).toBeGreaterThan(0);
    expect(row.gflops).toBeCloseTo(128 / row.ms! / 1e6, 12);
    expect(row.maxError).toBeLessThan(1e-6);
    expect(row.kernels).toBe(1);
  });

  it('flags a wrong engine and does not time it', async () => {
    const wrong = fakeEngine('wrong', () => {
      const data = hand['matmul/out']!.data.map((v) => v * 1.01);
      return { 'matmul/out': { shape: [4, 4], data } };
    });
    const row = await measureRow(tiny, wrong, hand, TIMING);
    expect(row.status).toBe('mismatch');
    expect(row.ms).toBeNull();
    expect(row.gflops).toBeNull();
    expect(row.runs).toBe(0);
    expect(row.note).toContain('matmul/out');
  });

  it('flags a missing output', async () => {
    const row = await measureRow(tiny, fakeEngine('empty', () => ({})), hand, TIMING);
    expect(row.status).toBe('mismatch');
    expect(row.note).toBe('output matmul/out is missing');
  });

  it('records a failing engine', async () => {
    const failing = fakeEngine('failing', () => {
      throw new Error('backend failed to load');
    });
    const row = await measureRow(tiny, failing, hand, TIMING);
    expect(row.status).toBe('failed');
    expect(row.note).toBe('backend failed to load');
  });

  it('keeps a skipped engine untimed', async () => {
    const skipping: Engine = { ...fakeEngine('skipping', () => hand), skipReason: () => 'not built' };
    const row = await measureRow(tiny, skipping, hand, TIMING);
    expect(row.status).toBe('skipped');
    expect(row.note).toBe('not built');
  });

  it('compares relative to the largest value', () => {
    const expected = { y: { shape: [2], data: Float32Array.of(100, 1) } };
    // An error of 0.1 on the small value is 1e-3 of the largest value.
    expect(compareOutputs(expected, { y: { shape: [2], data: Float32Array.of(100, 1.1) } }, 2e-3).ok).toBe(true);
    expect(compareOutputs(expected, { y: { shape: [2], data: Float32Array.of(100, 1.3) } }, 2e-3).ok).toBe(false);
    expect(compareOutputs(expected, { y: { shape: [2], data: Float32Array.of(100, Number.NaN) } }, 2e-3).ok).toBe(false);
  });

  it('skips outputs that the case excludes', () => {
    const expected = { 'g/loss': { shape: [], data: Float32Array.of(1) }, 'g/noise': { shape: [], data: Float32Array.of(1) } };
    const actual = { 'g/loss': { shape: [], data: Float32Array.of(1) }, 'g/noise': { shape: [], data: Float32Array.of(5) } };
    expect(compareOutputs(expected, actual, 1e-3, /noise/).ok).toBe(true);
  });

  it('plans runs within the bounds', () => {
    const options: TimingOptions = { warmup: 1, minRuns: 3, maxRuns: 30, budgetMs: 1000 };
    expect(plannedRuns(500, options)).toBe(3);
    expect(plannedRuns(100, options)).toBe(10);
    expect(plannedRuns(0.01, options)).toBe(30);
  });

  it('takes the median', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('writes JSON rows with the documented fields', async () => {
    const row = await measureRow(tiny, fakeEngine('hand', () => hand), hand, TIMING);
    const [json] = jsonRows([row]) as Record<string, unknown>[];
    expect(Object.keys(json!).slice(0, 4)).toEqual(['case', 'engine', 'ms', 'gflops']);
    expect(json!.case).toBe('tiny');
    expect(json!.engine).toBe('hand');
  });
});

describe('bench docs section', () => {
  it('replaces only the marked section', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sganc-bench-test-'));
    const path = join(dir, 'benchmarks.md');
    writeFileSync(path, `# Benchmarks\n\nBefore.\n\n${SECTION_BEGIN}\nold table\n${SECTION_END}\n\nAfter.\n`);
    writeSection(path, `${SECTION_BEGIN}\nnew table\n${SECTION_END}`);
    const text = readFileSync(path, 'utf8');
    rmSync(dir, { recursive: true });
    expect(text).toBe(`# Benchmarks\n\nBefore.\n\n${SECTION_BEGIN}\nnew table\n${SECTION_END}\n\nAfter.\n`);
  });

  it('appends the section when markers are absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sganc-bench-test-'));
    const path = join(dir, 'benchmarks.md');
    writeFileSync(path, '# Benchmarks\n\nHand-written.\n');
    writeSection(path, `${SECTION_BEGIN}\ntable\n${SECTION_END}`);
    const text = readFileSync(path, 'utf8');
    rmSync(dir, { recursive: true });
    expect(text.startsWith('# Benchmarks\n\nHand-written.\n')).toBe(true);
    expect(text).toContain(`${SECTION_BEGIN}\ntable\n${SECTION_END}`);
  });
});

describe('npm run bench --json', () => {
  it('prints JSON rows for the tiny case', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--json', '--cases', 'tiny', '--engines', 'sganc ref,sganc cpu', '--no-docs'],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const rows = JSON.parse(result.stdout) as Record<string, unknown>[];
    expect(rows.map((row) => row.engine)).toEqual(['sganc cpu', 'sganc ref']);
    for (const row of rows) {
      expect(row.case).toBe('tiny');
      expect(row.status).toBe('ok');
      expect(typeof row.ms).toBe('number');
      expect(row.gflops).toBeCloseTo(128 / (row.ms as number) / 1e6, 9);
    }
  });
});
