// Sample grids: a batch of generated or real images [N, C, H, W] in [-1, 1] laid out as one PNG, the
// way training runs show progress.

import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

import sharp from 'sharp';

import { formatShape } from '../ir/graph.ts';
import type { Tensor } from './tensor.ts';

export interface GridOptions {
  /** Images per row, ceil(sqrt(N)) by default. */
  cols?: number;
  /** Width in pixels of the gray border between and around images, before scaling (default 2). */
  padding?: number;
  /** Integer nearest-neighbour upscale factor that makes small samples visible (default 1). */
  scale?: number;
}

/** An 8-bit image: row-major pixels, `channels` interleaved values per pixel (1 gray or 3 RGB). */
export interface PixelBuffer {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Value of the padding between images (mid gray), visible on both dark and light samples. */
const PADDING_VALUE = 128;

/**
 * Lays out images [N, C, H, W] (C = 1 or 3) in a grid, row by row. Values in [-1, 1] map to
 * [0, 255]. Values outside are clamped, and NaN becomes 0. Unused cells of the last row stay padding.
 */
export function gridPixels(images: Tensor, opts: GridOptions = {}): PixelBuffer {
  if (images.shape.length !== 4) {
    throw new Error(`image grid needs images [N, C, H, W], got shape ${formatShape(images.shape)}`);
  }
  const [count, channels, height, width] = images.shape as [number, number, number, number];
  if (channels !== 1 && channels !== 3) {
    throw new Error(`image grid needs 1 or 3 channels, got ${channels} in shape ${formatShape(images.shape)}`);
  }
  if (count < 1 || height < 1 || width < 1) {
    throw new Error(`image grid needs at least one non-empty image, got shape ${formatShape(images.shape)}`);
  }
  if (images.data.length !== count * channels * height * width) {
    throw new Error(`invalid image tensor: ${images.data.length} values for shape ${formatShape(images.shape)}`);
  }
  const cols = opts.cols ?? Math.ceil(Math.sqrt(count));
  const padding = opts.padding ?? 2;
  const scale = opts.scale ?? 1;
  checkCount('cols', cols, 1);
  checkCount('padding', padding, 0);
  checkCount('scale', scale, 1);

  const rows = Math.ceil(count / cols);
  const cellWidth = width * scale;
  const cellHeight = height * scale;
  const pad = padding * scale;
  const gridWidth = cols * cellWidth + (cols + 1) * pad;
  const gridHeight = rows * cellHeight + (rows + 1) * pad;
  const data = new Uint8Array(gridWidth * gridHeight * channels).fill(PADDING_VALUE);

  const plane = height * width;
  for (let n = 0; n < count; n++) {
    const left = pad + (n % cols) * (cellWidth + pad);
    const top = pad + Math.floor(n / cols) * (cellHeight + pad);
    for (let y = 0; y < cellHeight; y++) {
      const sourceRow = Math.floor(y / scale) * width;
      for (let x = 0; x < cellWidth; x++) {
        const sourcePixel = sourceRow + Math.floor(x / scale);
        const target = ((top + y) * gridWidth + left + x) * channels;
        for (let c = 0; c < channels; c++) {
          data[target + c] = toByte(images.data[(n * channels + c) * plane + sourcePixel]!);
        }
      }
    }
  }
  return { width: gridWidth, height: gridHeight, channels, data };
}

/** Writes images [N, C, H, W] in [-1, 1] as a grid PNG, through a temporary file and a rename. */
export async function writeImageGrid(path: string, images: Tensor, opts: GridOptions = {}): Promise<void> {
  await writePng(path, gridPixels(images, opts));
}

/** Writes an 8-bit gray or RGB buffer as a PNG at `path.tmp-<pid>`, then renames it over `path`. */
export async function writePng(path: string, pixels: PixelBuffer): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    let image = sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
    // sharp treats raw input as sRGB and would write a 1-channel buffer as an RGB PNG.
    if (pixels.channels === 1) image = image.toColourspace('b-w');
    await image.png().toFile(temporary);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new Error(`failed to write PNG ${path}: ${(error as Error).message}`);
  }
}

function toByte(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.round((Math.min(1, Math.max(-1, value)) + 1) * 127.5);
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`invalid image grid ${name} ${value}: expected an integer >= ${min}`);
  }
}
