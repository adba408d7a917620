// Host-side training arithmetic checked against values computed by hand.

import { describe, expect, it } from 'vitest';

import { checkpointFileName, kimgLabel } from '../../src/runtime/checkpoint.ts';
import { formatStatusLine, statusHeader } from '../../src/runtime/status.ts';
import { parseSeeds } from '../../src/runtime/train/entry.ts';
import { defaultKimg, parseTrainArgs, UsageError } from '../../src/runtime/train/options.ts';
import { truncationVector } from '../../src/runtime/train/sample.ts';
import { mixVector, styleLayersAtStage, updateEma, updateWAvg } from '../../src/runtime/train/semantics.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { tinySpec } from '../layers/tiny-spec.ts';

describe('mix vector', () => {
  it('switches to w2 at the crossover', () => {
    expect(Array.from(mixVector(6, 2).data)).toEqual([0, 0, 1, 1, 1, 1]);
  });

  it('is all w1 when the crossover is past the last layer', () => {
    expect(Array.from(mixVector(4, 4).data)).toEqual([0, 0, 0, 0]);
  });

  it('counts style layers up to the current stage', () => {
    const spec = tinySpec({ channels: { 4: 4, 8: 4, 16: 4 } });
    expect(styleLayersAtStage(spec, 4)).toBe(2);
    expect(styleLayersAtStage(spec, 8)).toBe(4);
    expect(styleLayersAtStage(spec, 16)).toBe(6);
  });
});

describe('generator EMA', () => {
  it('moves the average towards the weights by 1 - beta', () => {
    const ema = { a: tensor([2], [1, 10]) };
    const params = { a: tensor([2], [3, 0]) };
    updateEma(ema, params, ['a'], 0.75);
    // 3 + (1 - 3) * 0.75 = 1.5 and 0 + (10 - 0) * 0.75 = 7.5
    expect(Array.from(ema.a.data)).toEqual([1.5, 7.5]);
  });

  it('copies the weights when beta is 0', () => {
    const ema = { a: tensor([1], [5]) };
    updateEma(ema, { a: tensor([1], [-2]) }, ['a'], 0);
    expect(ema.a.data[0]).toBe(-2);
  });

  it('tracks w_avg with the decay', () => {
    const wAvg = tensor([2], [0, 4]);
    updateWAvg(wAvg, tensor([2], [2, 0]), 0.5);
    expect(Array.from(wAvg.data)).toEqual([1, 2]);
  });
});

describe('truncation vector', () => {
  it('applies psi below the cutoff only', () => {
    expect(Array.from(truncationVector(5, 0.5, 2).data)).toEqual([0.5, 0.5, 1, 1, 1]);
  });
});

describe('checkpoint names', () => {
  it('pads whole kimg to six digits', () => {
    expect(kimgLabel(12000)).toBe('000012');
    expect(checkpointFileName(12000)).toBe('checkpoint-000012.safetensors');
  });

  it('adds three decimals for partial kimg', () => {
    expect(kimgLabel(96)).toBe('000000.096');
    expect(kimgLabel(1004)).toBe('000001.004');
  });
});

describe('training options', () => {
  it('defaults the run length to one stable phase at the final resolution', () => {
    const recipe = tinySpec().train;
    const grown = { ...recipe, grow: { startRes: 8, stableKimg: 20, fadeKimg: 10 } };
    // 8: 20 stable; 16: 10 fade + 20 stable; 32: 10 fade + 20 stable
    expect(defaultKimg(grown, 32)).toBe(80);
  });

  it('parses numbers and flags', () => {
    const parsed = parseTrainArgs(['model.sgan', '--kimg', '2.5', '--seed', '3', '--pad', '--tick-kimg', '0.5'], 10);
    expect(parsed.positionals).toEqual(['model.sgan']);
    expect(parsed.options.kimg).toBe(2.5);
    expect(parsed.options.seed).toBe(3);
    expect(parsed.options.pad).toBe(true);
    expect(parsed.options.tickKimg).toBe(0.5);
    expect(parsed.given.has('seed')).toBe(true);
    expect(parsed.given.has('data')).toBe(false);
  });

  it('uses the default run length without --kimg', () => {
    expect(parseTrainArgs([], 42).options.kimg).toBe(42);
  });

  it('rejects a negative budget and a fractional seed', () => {
    expect(() => parseTrainArgs(['--kimg', '-1'], 1)).toThrow(UsageError);
    expect(() => parseTrainArgs(['--seed', '1.5'], 1)).toThrow(/--seed must be an integer/);
    expect(() => parseTrainArgs(['--bogus'], 1)).toThrow(UsageError);
  });
});

describe('seed lists', () => {
  it('expands ranges and singles', () => {
    expect(parseSeeds('0-3,9')).toEqual([0, 1, 2, 3, 9]);
  });

  it('rejects a reversed range', () => {
    expect(() => parseSeeds('5-2')).toThrow(/ends before it starts/);
  });
});

describe('status line', () => {
  it('keeps every column at the header width', () => {
    const line = formatStatusLine({
      tick: 3,
      kimg: 1.5,
      resolution: 16,
      alpha: 0.25,
      secPerTick: 40.12,
      secPerKimg: 80.5,
      lossG: 0.6931,
      lossD: 1.3862,
      r1: 0.01,
      rssBytes: 512 * 2 ** 20,
    });
    expect(line.length).toBe(statusHeader().length);
    expect(line).toContain('1.500');
    expect(line).toContain('0.250');
    expect(line).toContain('512');
  });
});
