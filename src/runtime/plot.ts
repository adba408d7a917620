// Loss curves as a PNG line plot: axes with numbered ticks, grid lines, a legend and one colour per
// series. Everything, text included, is drawn into an RGB buffer here, so the output does not
// depend on which fonts the machine has.

import { writePng, type PixelBuffer } from './images.ts';
import { CAP_HEIGHT, forEachTextPixel, GLYPH_HEIGHT, textWidth } from './plot/font.ts';

export interface PlotSeries {
  name: string;
  /** [x, y] pairs in drawing order. A point with a non-finite coordinate is skipped and leaves a gap. */
  points: [number, number][];
}

export interface PlotOptions {
  /** x-axis caption, "kimg" by default. */
  xLabel?: string;
  title?: string;
  /** Image size in pixels, 800 x 500 by default. */
  width?: number;
  height?: number;
}

/** The data-to-pixel mapping of a rendered plot: x in [xMin, xMax] maps to columns left..right. */
export interface PlotLayout {
  left: number;
  right: number;
  top: number;
  bottom: number;
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

type Rgb = readonly [number, number, number];

/** Series colours in order: the Tableau 10 palette, whose colours stay distinct on white. */
export const SERIES_COLOURS: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

const WHITE: Rgb = [255, 255, 255];
const TEXT: Rgb = [34, 34, 34];
const AXIS: Rgb = [96, 96, 96];
const GRID: Rgb = [228, 228, 228];
const LINE_WIDTH = 2;

/** Writes series as a PNG line plot at `path`, through a temporary file and a rename. */
export async function writeLossPlot(path: string, series: PlotSeries[], opts: PlotOptions = {}): Promise<void> {
  await writePng(path, renderLossPlot(series, opts));
}

/** Renders series as an RGB line plot and returns the pixels with the axis mapping used. */
export function renderLossPlot(series: PlotSeries[], opts: PlotOptions = {}): PixelBuffer & { layout: PlotLayout } {
  const width = opts.width ?? 800;
  const height = opts.height ?? 500;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 200 || height < 150) {
    throw new Error(`invalid plot size ${width} x ${height}: expected integers of at least 200 x 150 pixels`);
  }
  const canvas = new Canvas(width, height);
  const textScale = width >= 500 && height >= 300 ? 2 : 1;
  const lineHeight = GLYPH_HEIGHT * textScale;

  // The y range decides the tick labels, whose width decides the left margin.
  const { xs, ys } = finiteRanges(series);
  const xTicks = niceTicks(xs.min, xs.max, Math.max(3, Math.floor(width / 110)));
  // 5% headroom above and below keeps lines at the extremes off the frame.
  const yPadding = (ys.max - ys.min) * 0.05;
  const yTicks = niceTicks(ys.min - yPadding, ys.max + yPadding, Math.max(3, Math.floor(height / 70)));
  const yLabels = yTicks.values.map((v) => formatTick(v, yTicks.step));
  const xLabels = xTicks.values.map((v) => formatTick(v, xTicks.step));

  const margin = 6 * textScale;
  const top = opts.title !== undefined ? margin * 2 + lineHeight : margin * 2;
  const left = margin * 2 + Math.max(...yLabels.map((label) => textWidth(label, textScale)));
  const right = width - 1 - margin * 3;
  const bottom = height - 1 - (margin * 3 + lineHeight * 2);
  if (right - left < 40 || bottom - top < 40) {
    throw new Error(`plot size ${width} x ${height} leaves no room for the axes: use a larger width or height`);
  }
  const layout: PlotLayout = {
    left,
    right,
    top,
    bottom,
    xMin: xTicks.values[0]!,
    xMax: xTicks.values.at(-1)!,
    yMin: yTicks.values[0]!,
    yMax: yTicks.values.at(-1)!,
  };
  const toX = (x: number): number => left + ((x - layout.xMin) / (layout.xMax - layout.xMin)) * (right - left);
  const toY = (y: number): number => bottom - ((y - layout.yMin) / (layout.yMax - layout.yMin)) * (bottom - top);

  canvas.fillRect(0, 0, width, height, WHITE);
  if (opts.title !== undefined) {
    canvas.drawText(opts.title, Math.round((width - textWidth(opts.title, textScale)) / 2), margin, textScale, TEXT);
  }

  // Grid lines and ticks, then the frame over them.
  const tickLength = 3 * textScale;
  xTicks.values.forEach((value, i) => {
    const x = Math.round(toX(value));
    canvas.fillRect(x, top, 1, bottom - top, GRID);
    canvas.fillRect(x, bottom, 1, tickLength, AXIS);
    const label = xLabels[i]!;
    canvas.drawText(label, x - Math.floor(textWidth(label, textScale) / 2), bottom + tickLength + margin / 2, textScale, TEXT);
  });
  yTicks.values.forEach((value, i) => {
    const y = Math.round(toY(value));
    canvas.fillRect(left, y, right - left, 1, GRID);
    canvas.fillRect(left - tickLength, y, tickLength, 1, AXIS);
    const label = yLabels[i]!;
    const labelTop = y - Math.floor((CAP_HEIGHT * textScale) / 2);
    canvas.drawText(label, left - tickLength - margin / 2 - textWidth(label, textScale), labelTop, textScale, TEXT);
  });
  canvas.strokeRect(left, top, right - left, bottom - top, AXIS);

  const xLabel = opts.xLabel ?? 'kimg';
  canvas.drawText(
    xLabel,
    Math.round((left + right - textWidth(xLabel, textScale)) / 2),
    bottom + tickLength + margin + lineHeight,
    textScale,
    TEXT,
  );

  // Lines are clipped to the inside of the frame.
  canvas.setClip(left + 1, top + 1, right - 1, bottom - 1);
  series.forEach((s, index) => {
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    drawSeries(canvas, s.points, toX, toY, colour);
  });
  canvas.setClip(0, 0, width - 1, height - 1);

  if (xs.count === 0) {
    const message = 'no data yet';
    canvas.drawText(message, Math.round((left + right - textWidth(message, textScale)) / 2), Math.round((top + bottom) / 2), textScale, AXIS);
  }
  drawLegend(canvas, series, layout, toX, toY, margin, textScale);

  return { width, height, channels: 3, data: canvas.data, layout };
}

function drawSeries(
  canvas: Canvas,
  points: [number, number][],
  toX: (x: number) => number,
  toY: (y: number) => number,
  colour: Rgb,
): void {
  let previous: [number, number] | undefined;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      previous = undefined;
      continue;
    }
    const current: [number, number] = [toX(x), toY(y)];
    // A lone point still shows up as a dot, because a zero-length segment is a disc.
    canvas.drawSegment(previous ?? current, current, LINE_WIDTH, colour);
    previous = current;
  }
}

/**
 * Draws the legend box inside the plot area, in the corner that covers the fewest data points
 * (top right when several tie).
 */
function drawLegend(
  canvas: Canvas,
  series: PlotSeries[],
  layout: PlotLayout,
  toX: (x: number) => number,
  toY: (y: number) => number,
  margin: number,
  textScale: number,
): void {
  if (series.length === 0) return;
  const padding = 4 * textScale;
  const swatch = 10 * textScale;
  const rowHeight = (CAP_HEIGHT + 5) * textScale;
  const textLeftOffset = padding + swatch + padding;
  const boxWidth = textLeftOffset + Math.max(...series.map((s) => textWidth(s.name, textScale))) + padding;
  const boxHeight = padding * 2 + rowHeight * series.length - 5 * textScale;

  const corners: [number, number][] = [
    [layout.right - margin - boxWidth, layout.top + margin],
    [layout.left + margin, layout.top + margin],
    [layout.right - margin - boxWidth, layout.bottom - margin - boxHeight],
    [layout.left + margin, layout.bottom - margin - boxHeight],
  ];
  const pointsUnder = corners.map(([cornerLeft, cornerTop]) => {
    let count = 0;
    for (const s of series) {
      for (const [x, y] of s.points) {
        const px = toX(x);
        const py = toY(y);
        if (px >= cornerLeft && px <= cornerLeft + boxWidth && py >= cornerTop && py <= cornerTop + boxHeight) count++;
      }
    }
    return count;
  });
  const best = pointsUnder.indexOf(Math.min(...pointsUnder));
  const [left, top] = corners[best]!;
  canvas.fillRect(left, top, boxWidth, boxHeight, WHITE);
  canvas.strokeRect(left, top, boxWidth, boxHeight, AXIS);
  series.forEach((s, index) => {
    const rowTop = top + padding + index * rowHeight;
    const middle = rowTop + Math.floor((CAP_HEIGHT * textScale) / 2);
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    canvas.fillRect(left + padding, middle - 1, swatch, LINE_WIDTH + 1, colour);
    canvas.drawText(s.name, left + textLeftOffset, rowTop, textScale, TEXT);
  });
}

/** Returns the minimum and maximum of the finite x and y values, widened to a non-empty range each. */
function finiteRanges(series: PlotSeries[]): { xs: Range; ys: Range } {
  const xs: Range = { min: Infinity, max: -Infinity, count: 0 };
  const ys: Range = { min: Infinity, max: -Infinity, count: 0 };
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      include(xs, x);
      include(ys, y);
    }
  }
  return { xs: widen(xs), ys: widen(ys) };
}

interface Range {
  min: number;
  max: number;
  count: number;
}

function include(range: Range, value: number): void {
  range.min = Math.min(range.min, value);
  range.max = Math.max(range.max, value);
  range.count++;
}

/** Gives an empty or single-valued range a width, so that the axis can be scaled. */
function widen(range: Range): Range {
  if (range.count === 0) return { min: 0, max: 1, count: 0 };
  if (range.max > range.min) return range;
  const half = range.min === 0 ? 1 : Math.abs(range.min) * 0.1;
  return { min: range.min - half, max: range.max + half, count: range.count };
}

/**
 * Chooses about `target` round tick values (steps of 1, 2 or 5 times a power of ten) whose first
 * and last ticks enclose [min, max]. The axis then runs from the first tick to the last.
 */
export function niceTicks(min: number, max: number, target: number): { values: number[]; step: number } {
  const rough = (max - min) / target;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  let multiple = 10;
  if (fraction <= 1) multiple = 1;
  else if (fraction <= 2) multiple = 2;
  else if (fraction <= 5) multiple = 5;
  const step = multiple * power;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const values: number[] = [];
  // Multiplying the index by the step avoids the drift of repeated addition (0.1 + 0.2 ...).
  for (let i = first; i <= last; i++) values.push(i * step);
  return { values, step };
}

/** Formats a tick value with just enough decimals for its step, and 0 instead of -0. */
export function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const text = value.toFixed(Math.min(decimals, 20));
  return Number(text) === 0 ? (0).toFixed(Math.min(decimals, 20)) : text;
}

/** An RGB pixel buffer with clipped, coverage-blended drawing. */
class Canvas {
  readonly data: Uint8Array;
  private clip = { left: 0, top: 0, right: 0, bottom: 0 };

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 3);
    this.setClip(0, 0, width - 1, height - 1);
  }

  /** Restricts drawing to the inclusive pixel rectangle [left, right] x [top, bottom]. */
  setClip(left: number, top: number, right: number, bottom: number): void {
    this.clip = { left, top, right, bottom };
  }

  /** Mixes `colour` into pixel (x, y) with weight `coverage` in [0, 1]. */
  blend(x: number, y: number, colour: Rgb, coverage = 1): void {
    const { left, top, right, bottom } = this.clip;
    if (x < left || x > right || y < top || y > bottom || coverage <= 0) return;
    const offset = (y * this.width + x) * 3;
    const weight = Math.min(1, coverage);
    for (let c = 0; c < 3; c++) {
      this.data[offset + c] = Math.round(this.data[offset + c]! * (1 - weight) + colour[c]! * weight);
    }
  }

  fillRect(x: number, y: number, width: number, height: number, colour: Rgb): void {
    for (let row = y; row < y + height; row++) {
      for (let column = x; column < x + width; column++) this.blend(column, row, colour);
    }
  }

  /** Draws a 1-pixel outline whose corners are (x, y) and (x + width, y + height). */
  strokeRect(x: number, y: number, width: number, height: number, colour: Rgb): void {
    this.fillRect(x, y, width + 1, 1, colour);
    this.fillRect(x, y + height, width + 1, 1, colour);
    this.fillRect(x, y, 1, height + 1, colour);
    this.fillRect(x + width, y, 1, height + 1, colour);
  }

  drawText(text: string, left: number, top: number, scale: number, colour: Rgb): void {
    forEachTextPixel(text, left, top, scale, (x, y) => this.blend(x, y, colour));
  }

  /**
   * Draws an anti-aliased segment of the given width with round caps: each pixel's coverage falls
   * from 1 to 0 over the half pixel around the segment's edge.
   */
  drawSegment(from: [number, number], to: [number, number], width: number, colour: Rgb): void {
    const half = width / 2;
    const [x0, y0] = from;
    const [x1, y1] = to;
    const minX = Math.max(this.clip.left, Math.floor(Math.min(x0, x1) - half - 1));
    const maxX = Math.min(this.clip.right, Math.ceil(Math.max(x0, x1) + half + 1));
    const minY = Math.max(this.clip.top, Math.floor(Math.min(y0, y1) - half - 1));
    const maxY = Math.min(this.clip.bottom, Math.ceil(Math.max(y0, y1) + half + 1));
    const dx = x1 - x0;
    const dy = y1 - y0;
    const lengthSquared = dx * dx + dy * dy;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        // Distance from the pixel centre to the closest point of the segment.
        const t = lengthSquared === 0 ? 0 : Math.min(1, Math.max(0, ((x - x0) * dx + (y - y0) * dy) / lengthSquared));
        const distance = Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy));
        const coverage = Math.min(1, half + 0.5 - distance);
        if (coverage > 0) this.blendMax(x, y, colour, coverage);
      }
    }
  }

  /**
   * Blends so that the joint of two segments of one line is not drawn twice. A pixel that is already
   * at least as close to `colour` as this coverage would make a white pixel is left alone.
   */
  private blendMax(x: number, y: number, colour: Rgb, coverage: number): void {
    const offset = (y * this.width + x) * 3;
    let alreadyCloser = true;
    for (let c = 0; c < 3; c++) {
      const current = this.data[offset + c]!;
      const target = colour[c]!;
      const mixed = Math.round(255 * (1 - coverage) + target * coverage);
      if (Math.abs(current - target) > Math.abs(mixed - target)) alreadyCloser = false;
    }
    if (!alreadyCloser) this.blend(x, y, colour, coverage);
  }
}
