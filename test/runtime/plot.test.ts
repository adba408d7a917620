import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

import { formatTick, niceTicks, renderLossPlot, SERIES_COLOURS, writeLossPlot } from '../../src/runtime/plot.ts';
import { forEachTextPixel, textWidth } from '../../src/runtime/plot/font.ts';

type Plot = ReturnType<typeof renderLossPlot>;

function rgbAt(plot: Plot, x: number, y: number): number[] {
  const offset = (y * plot.width + x) * 3;
  return Array.from(plot.data.subarray(offset, offset + 3));
}

/**
 * Tells whether a pixel is mostly `colour`: a 2-pixel line covers the pixel nearest to its centre by
 * at least 80%, so the sum of channel differences stays well under 150, while white is over 300 away.
 */
function isInk(pixel: number[], colour: readonly number[]): boolean {
  return pixel.reduce((sum, value, c) => sum + Math.abs(value - colour[c]!), 0) < 150;
}

/** Maps a data point to its pixel with the linear axis mapping the plot reports. */
function pixelOf(plot: Plot, x: number, y: number): [number, number] {
  const { left, right, top, bottom, xMin, xMax, yMin, yMax } = plot.layout;
  return [
    Math.round(left + ((x - xMin) / (xMax - xMin)) * (right - left)),
    Math.round(bottom - ((y - yMin) / (yMax - yMin)) * (bottom - top)),
  ];
}

describe('niceTicks', () => {
  it('picks steps of 1, 2 and 5', () => {
    // 60 / 7 = 8.6 rounds up to a step of 10.
    expect(niceTicks(0, 60, 7)).toEqual({ values: [0, 10, 20, 30, 40, 50, 60], step: 10 });
    // 0.94 / 5 = 0.188 rounds up to 0.2, and the ticks enclose [0.03, 0.97].
    const small = niceTicks(0.03, 0.97, 5);
    expect(small.step).toBeCloseTo(0.2, 12);
    expect(small.values.map((v) => Number(v.toFixed(10)))).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    // 10 / 5 = 2 is already round.
    expect(niceTicks(-3, 7, 5)).toEqual({ values: [-4, -2, 0, 2, 4, 6, 8], step: 2 });
    expect(niceTicks(1200, 4800, 3).step).toBe(2000);
  });
});

describe('formatTick', () => {
  it('uses the decimals of the step', () => {
    expect(formatTick(0.6000000000000001, 0.2)).toBe('0.6');
    expect(formatTick(-1e-17, 0.5)).toBe('0.0');
    expect(formatTick(25000, 5000)).toBe('25000');
    expect(formatTick(0.002, 0.001)).toBe('0.002');
    expect(formatTick(-2, 2)).toBe('-2');
  });
});

describe('font', () => {
  it('measures text width', () => {
    // 3 glyphs of 5 columns plus 2 gaps of 1, times 2.
    expect(textWidth('abc', 2)).toBe(34);
    expect(textWidth('', 2)).toBe(0);
  });

  it('scales glyph pixels', () => {
    const single = new Set<string>();
    forEachTextPixel('-', 0, 0, 1, (x, y) => single.add(`${x},${y}`));
    const double = new Set<string>();
    forEachTextPixel('-', 10, 20, 2, (x, y) => double.add(`${x},${y}`));
    expect(double.size).toBe(single.size * 4);
    for (const key of single) {
      const [x, y] = key.split(',').map(Number) as [number, number];
      expect(double.has(`${10 + 2 * x},${20 + 2 * y}`)).toBe(true);
    }
  });

  it('draws unknown characters as a question mark', () => {
    const unknown: string[] = [];
    const question: string[] = [];
    forEachTextPixel('\u00e9', 0, 0, 1, (x, y) => unknown.push(`${x},${y}`));
    forEachTextPixel('?', 0, 0, 1, (x, y) => question.push(`${x},${y}`));
    expect(unknown).toEqual(question);
    expect(unknown.length).toBeGreaterThan(0);
  });
});

describe('renderLossPlot', () => {
  const flat = { name: 'G loss', points: [[0, 0.5], [5, 0.5], [10, 0.5]] as [number, number][] };
  const higher = { name: 'D loss', points: [[0, 0.8], [10, 0.8]] as [number, number][] };

  it('draws each series in its colour', () => {
    const plot = renderLossPlot([flat, higher]);
    expect(plot.width).toBe(800);
    expect(plot.height).toBe(500);
    expect(rgbAt(plot, 0, 0)).toEqual([255, 255, 255]);
    expect(plot.layout.xMin).toBeLessThanOrEqual(0);
    expect(plot.layout.xMax).toBeGreaterThanOrEqual(10);

    const [x1, y1] = pixelOf(plot, 4, 0.5);
    expect(isInk(rgbAt(plot, x1, y1), SERIES_COLOURS[0]!)).toBe(true);
    const [x2, y2] = pixelOf(plot, 4, 0.8);
    expect(isInk(rgbAt(plot, x2, y2), SERIES_COLOURS[1]!)).toBe(true);
    // Halfway between the two lines there is no ink of either.
    const [x3, y3] = pixelOf(plot, 4, 0.65);
    expect(isInk(rgbAt(plot, x3, y3), SERIES_COLOURS[0]!)).toBe(false);
    expect(isInk(rgbAt(plot, x3, y3), SERIES_COLOURS[1]!)).toBe(false);
  });

  it('leaves gaps at non-finite points', () => {
    const joined = renderLossPlot([{ name: 'loss', points: [[0, 0], [2, 1]] }]);
    const broken = renderLossPlot([{ name: 'loss', points: [[0, 0], [1, NaN], [2, 1], [3, Infinity], [4, 0]] }]);
    const [x, y] = pixelOf(joined, 1, 0.5);
    expect(isInk(rgbAt(joined, x, y), SERIES_COLOURS[0]!)).toBe(true);
    const [gapX, gapY] = pixelOf(broken, 1, 0.5);
    expect(isInk(rgbAt(broken, gapX, gapY), SERIES_COLOURS[0]!)).toBe(false);
    const [afterX, afterY] = pixelOf(broken, 3, 0.5);
    expect(isInk(rgbAt(broken, afterX, afterY), SERIES_COLOURS[0]!)).toBe(false);
    // A point between two gaps is still drawn, as a dot.
    const [dotX, dotY] = pixelOf(broken, 2, 1);
    expect(isInk(rgbAt(broken, dotX, dotY), SERIES_COLOURS[0]!)).toBe(true);
    expect(isInk(rgbAt(broken, dotX + 4, dotY), SERIES_COLOURS[0]!)).toBe(false);
  });

  it('draws the title only when given', () => {
    const darkPixelsAbove = (plot: Plot): number => {
      let count = 0;
      for (let y = 0; y < plot.layout.top - 2; y++) {
        for (let x = 0; x < plot.width; x++) if (rgbAt(plot, x, y)[0]! < 100) count++;
      }
      return count;
    };
    expect(darkPixelsAbove(renderLossPlot([flat], { title: 'losses' }))).toBeGreaterThan(0);
    // Without a title only the top half of the highest y tick label pokes above the frame.
    const untitled = renderLossPlot([flat]);
    let titleBand = 0;
    for (let y = 0; y < untitled.layout.top - 8; y++) {
      for (let x = untitled.layout.left; x < untitled.width; x++) if (rgbAt(untitled, x, y)[0]! < 100) titleBand++;
    }
    expect(titleBand).toBe(0);
  });

  it('handles empty and constant data', () => {
    const empty = renderLossPlot([]);
    expect(empty.layout.xMin).toBe(0);
    expect(empty.layout.xMax).toBe(1);
    const single = renderLossPlot([{ name: 'loss', points: [[3, 0.7]] }]);
    expect(single.layout.xMin).toBeLessThan(3);
    expect(single.layout.xMax).toBeGreaterThan(3);
    expect(single.layout.yMin).toBeLessThan(0.7);
    expect(single.layout.yMax).toBeGreaterThan(0.7);
  });

  it('rejects sizes too small', () => {
    expect(() => renderLossPlot([flat], { width: 100, height: 100 })).toThrow(/invalid plot size 100 x 100/);
  });
});

describe('writeLossPlot', () => {
  it('writes an RGB PNG', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sganc-plot-')), 'losses.png');
    const points: [number, number][] = Array.from({ length: 200 }, (_, i) => [i / 10, Math.exp(-i / 50)]);
    await writeLossPlot(path, [{ name: 'G loss', points }], { width: 640, height: 400, xLabel: 'kimg' });
    const png = PNG.sync.read(readFileSync(path));
    expect(png.width).toBe(640);
    expect(png.height).toBe(400);
    expect(png.colorType).toBe(2);
  });
});
