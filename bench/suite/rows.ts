// The row machinery of the suite: for each case and engine, run once, compare with the reference
// outputs, and time only the engines that match. Engines are plain objects, so tests can add a
// deliberately wrong one.

import type { TensorMap } from '../../src/runtime/tensor.ts';
import type { BenchCase } from './cases.ts';

/** One prepared case on one engine. */
export interface Runner {
  /** Runs the case once and returns its outputs, named `<program>/<output>`. */
  run(): Promise<TensorMap>;
  /**
   * Times `runs` runs after `warmup` untimed ones and returns each run's ms. Engines that time
   * inside another process (PyTorch) implement it; others are timed here around `run`.
   */
  time?(warmup: number, runs: number): Promise<number[]>;
  /** Kernels (or ops) launched per run, with what was counted; undefined when unknown. */
  kernels?(): Promise<number | undefined>;
  dispose?(): Promise<void> | void;
}

export interface Engine {
  name: string;
  /** Whether the engine is sganc's own; the ratio column compares with the fastest other engine. */
  sganc: boolean;
  /** Returns why the engine does not run this case, or undefined when it does. */
  skipReason(c: BenchCase): string | undefined;
  prepare(c: BenchCase): Promise<Runner>;
}

export type RowStatus = 'ok' | 'mismatch' | 'skipped' | 'failed';

export interface Row {
  case: string;
  label: string;
  engine: string;
  status: RowStatus;
  /** Median wall-clock ms of the timed runs; null when not timed. */
  ms: number | null;
  gflops: number | null;
  runs: number;
  kernels: number | null;
  /** The worst output difference, relative to that output's largest reference magnitude. */
  maxError: number | null;
  note: string;
}

export interface TimingOptions {
  /** Untimed runs before timing. */
  warmup: number;
  minRuns: number;
  maxRuns: number;
  /** The runs are chosen so that they take about this long, within [minRuns, maxRuns]. */
  budgetMs: number;
}

/** Outputs within `tolerance` of the reference, relative to its largest magnitude, match. */
export const DEFAULT_TOLERANCE = 2e-3;

export interface Comparison {
  ok: boolean;
  maxError: number;
  /** The first failing output and why, when not ok. */
  detail: string;
}

/**
 * Compares every reference output (except those `skip` matches) with the engine's output of the
 * same name. The error of an output is max |a - b| / max(max |reference|, 1e-6).
 */
export function compareOutputs(reference: TensorMap, actual: TensorMap, tolerance: number, skip?: RegExp): Comparison {
  let maxError = 0;
  for (const [name, expected] of Object.entries(reference)) {
    if (skip?.test(name)) continue;
    const got = actual[name];
    if (got === undefined) return { ok: false, maxError: Infinity, detail: `output ${name} is missing` };
    if (got.data.length !== expected.data.length) {
      return { ok: false, maxError: Infinity, detail: `output ${name} has ${got.data.length} values, expected ${expected.data.length}` };
    }
    let scale = 1e-6;
    for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let i = 0; i < got.data.length; i++) {
      const error = Math.abs(got.data[i]! - expected.data[i]!) / scale;
      // NaN compares false with everything, so it is counted explicitly.
      if (Number.isNaN(error)) return { ok: false, maxError: Infinity, detail: `output ${name} has NaN at ${i}` };
      worst = Math.max(worst, error);
    }
    maxError = Math.max(maxError, worst);
    if (worst > tolerance) {
      return { ok: false, maxError, detail: `output ${name} differs by ${worst.toExponential(2)} of its largest value` };
    }
  }
  return { ok: true, maxError, detail: '' };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Chooses the number of timed runs from the ms of one warm-up run. */
export function plannedRuns(firstMs: number, options: TimingOptions): number {
  const fit = Math.floor(options.budgetMs / Math.max(firstMs, 1e-3));
  return Math.max(options.minRuns, Math.min(options.maxRuns, fit));
}

async function timeRunner(runner: Runner, firstMs: number, options: TimingOptions): Promise<number[]> {
  const runs = plannedRuns(firstMs, options);
  const warmup = Math.max(0, options.warmup - 1);
  if (runner.time !== undefined) return runner.time(warmup, runs);
  for (let i = 0; i < warmup; i++) await runner.run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await runner.run();
    times.push(performance.now() - start);
  }
  return times;
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 160);
}

/**
 * Measures one case on one engine. The first run is the correctness gate: a row whose outputs
 * differ from `reference` is marked 'mismatch' and not timed. With no reference (compile time),
 * the first run is only a warm-up.
 */
export async function measureRow(
  c: BenchCase,
  engine: Engine,
  reference: TensorMap | undefined,
  timing: TimingOptions,
  tolerance = c.tolerance?.value ?? DEFAULT_TOLERANCE,
): Promise<Row> {
  const row: Row = { case: c.id, label: c.label, engine: engine.name, status: 'skipped', ms: null, gflops: null, runs: 0, kernels: null, maxError: null, note: '' };
  const reason = engine.skipReason(c);
  if (reason !== undefined) {
    row.note = reason;
    return row;
  }

  let runner: Runner | undefined;
  try {
    runner = await engine.prepare(c);
    const start = performance.now();
    const outputs = await runner.run();
    const firstMs = performance.now() - start;
    if (reference !== undefined) {
      const comparison = compareOutputs(reference, outputs, tolerance, c.skipOutputs?.pattern);
      row.maxError = comparison.maxError;
      if (!comparison.ok) {
        row.status = 'mismatch';
        row.note = comparison.detail;
        return row;
      }
      if (c.skipOutputs !== undefined) row.note = `not compared: ${c.skipOutputs.reason}`;
    }
    const limited = c.maxRuns === undefined ? timing : { ...timing, minRuns: Math.min(timing.minRuns, c.maxRuns), maxRuns: Math.min(timing.maxRuns, c.maxRuns) };
    const times = await timeRunner(runner, firstMs, limited);
    row.runs = times.length;
    row.ms = median(times);
    row.gflops = c.flops > 0 ? c.flops / row.ms / 1e6 : null;
    row.kernels = (await runner.kernels?.()) ?? null;
    row.status = 'ok';
  } catch (error) {
    row.status = 'failed';
    row.note = describeError(error);
  } finally {
    await runner?.dispose?.();
  }
  return row;
}

/** Converts rows to the JSON output objects: the four fields every consumer reads, then the rest. */
export function jsonRows(rows: readonly Row[]): object[] {
  return rows.map((r) => ({
    case: r.case,
    engine: r.engine,
    ms: r.ms,
    gflops: r.gflops,
    status: r.status,
    kernels: r.kernels,
    runs: r.runs,
    maxError: r.maxError,
    note: r.note,
  }));
}
