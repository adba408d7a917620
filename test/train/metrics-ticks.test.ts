// The trainer's `--metrics-ticks`: which ticks measure the Frechet distance, what log.jsonl records,
// and the checks that reject a run before it writes anything.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { loadDataset } from '../../src/runtime/data.ts';
import { realOrder, upscaleTo } from '../../src/runtime/sample/fd.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { TickMetrics } from '../../src/runtime/train/metrics.ts';
import { parseTrainArgs, type TrainOptions, UsageError } from '../../src/runtime/train/options.ts';
import { train, type TrainInput } from '../../src/runtime/trainer.ts';
import { refTarget } from '../../targets/ref/index.ts';
import { tempDir, tinyTrainSpec, writeImageFolder } from './helpers.ts';

let imageDir = '';

beforeAll(async () => {
  imageDir = await writeImageFolder();
});

function input(overrides: Partial<TrainOptions>, spec = tinyTrainSpec()): TrainInput {
  return {
    spec,
    recipe: spec.train,
    modelText: 'model tiny {}\n',
    modelHash: 'test-hash',
    options: {
      data: imageDir,
      pad: false,
      upscale: false,
      target: 'ref',
      kimg: 0.016,
      tickKimg: 0.004,
      out: undefined,
      resume: undefined,
      seed: 3,
      snapshotTicks: 4,
      ...overrides,
    },
    target: refTarget,
    print: () => {},
    warn: () => {},
  };
}

function readLog(runDir: string): Record<string, unknown>[] {
  return readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('metrics ticks', () => {
  it('writes fd on every second tick', async () => {
    const out = join(tempDir('fd'), 'run');
    const result = await train(input({ out, metricsTicks: 2, metricsSamples: 20 }));
    expect(result.exitCode).toBe(0);

    const log = readLog(out);
    expect(log.map((record) => record['tick'])).toEqual([1, 2, 3, 4]);
    expect(log.map((record) => 'fd' in record)).toEqual([false, true, false, true]);
    for (const record of log.filter((r) => 'fd' in r)) {
      expect(Number.isFinite(record['fd'])).toBe(true);
      expect(record['fd']).toBeGreaterThan(0);
      expect(record['fd_samples']).toBe(20);
    }
  });

  it('measures the final tick too', async () => {
    const out = join(tempDir('fd'), 'run');
    await train(input({ out, kimg: 0.012, metricsTicks: 5, metricsSamples: 10 }));
    expect(readLog(out).map((record) => 'fd' in record)).toEqual([false, false, true]);
  });

  it('rejects more samples than images', async () => {
    const out = join(tempDir('fd'), 'run');
    await expect(train(input({ out, metricsTicks: 1, metricsSamples: 25 }))).rejects.toThrow('--metrics-samples 25 is more than the 24 images');
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a 3-channel model', async () => {
    const spec = tinyTrainSpec();
    spec.imageChannels = 3;
    const out = join(tempDir('fd'), 'run');
    await expect(train(input({ out, metricsTicks: 1 }, spec))).rejects.toThrow(UsageError);
    expect(existsSync(out)).toBe(false);
  });

  it('parses the flags', () => {
    const parsed = parseTrainArgs(['m.sgan', '--metrics-ticks', '3', '--metrics-samples', '500'], 1);
    expect(parsed.options.metricsTicks).toBe(3);
    expect(parsed.options.metricsSamples).toBe(500);
    expect(parseTrainArgs(['m.sgan'], 1).options.metricsTicks).toBe(0);
    expect(() => parseTrainArgs(['m.sgan', '--metrics-ticks', '-1'], 1)).toThrow('--metrics-ticks must be an integer >= 0');
    expect(() => parseTrainArgs(['m.sgan', '--metrics-samples', '5'], 1)).toThrow('--metrics-samples must be an integer >= 10');
  });
});

describe('TickMetrics', () => {
  it('gives 0 for the reals themselves', async () => {
    const dataset = await loadDataset(imageDir, { channels: 1, resolution: 8 });
    const metrics = new TickMetrics(refTarget, dataset, 20);
    // The reals that the metric draws, in reverse order: the same set, so the same Gaussian.
    const reals = realOrder(dataset).slice(0, 20).reverse();
    const distance = await metrics.measure(8, (indices) => dataset.batch(indices.map((i) => reals[i]!), 8));
    // Only the summation order differs, and the matrix square root of 64 x 64 float32 covariances
    // leaves about 1e-4; two different real sets of this folder score about 7.
    expect(Math.abs(distance)).toBeLessThan(1e-3);
  });
});

describe('upscaleTo', () => {
  it('repeats each pixel', () => {
    const image = tensor([1, 1, 2, 2], [1, 2, 3, 4]);
    const up = upscaleTo(image, 4);
    expect(up.shape).toEqual([1, 1, 4, 4]);
    expect(Array.from(up.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
});
