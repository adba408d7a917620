// Image outputs of the sampling commands beyond a plain grid: one PNG per image, the standard deviation
// map of the noise figure, and animated GIFs.

import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

import sharp from 'sharp';

import { gridPixels, writePng } from '../images.ts';
import { tensor, type Tensor } from '../tensor.ts';

/** Returns images [first, first + count) of a batch [N, C, H, W]. */
export function sliceImages(images: Tensor, first: number, count: number): Tensor {
  const [, c, h, w] = images.shape as [number, number, number, number];
  const size = c * h * w;
  return tensor([count, c, h, w], images.data.subarray(first * size, (first + count) * size));
}

/** Concatenates batches [Ni, C, H, W] with the same C, H and W along the batch dimension. */
export function concatImages(batches: readonly Tensor[]): Tensor {
  const [, c, h, w] = batches[0]!.shape as [number, number, number, number];
  const count = batches.reduce((sum, batch) => sum + batch.shape[0]!, 0);
  const out = tensor([count, c, h, w]);
  let offset = 0;
  for (const batch of batches) {
    out.data.set(batch.data, offset);
    offset += batch.data.length;
  }
  return out;
}

/**
 * Returns the per-pixel standard deviation over the batch of [N, C, H, W] as one image [1, C, H, W]
 * scaled for display: 0 maps to -1 (black) and the largest deviation to 1 (white). Also returns that
 * largest deviation in image units (the generator's [-1, 1] range).
 */
export function stddevImage(images: Tensor): { image: Tensor; max: number } {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  const size = c * h * w;
  const deviation = new Float64Array(size);
  for (let p = 0; p < size; p++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += images.data[i * size + p]!;
    const mean = sum / n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (images.data[i * size + p]! - mean) ** 2;
    deviation[p] = Math.sqrt(squares / n);
  }
  let max = 0;
  for (const value of deviation) max = Math.max(max, value);
  const image = tensor([1, c, h, w]);
  for (let p = 0; p < size; p++) image.data[p] = max > 0 ? (2 * deviation[p]!) / max - 1 : -1;
  return { image, max };
}

/** Writes each image of [N, C, H, W] as `<dir>/<names[i]>.png`; returns the paths. */
export async function writeImageFiles(dir: string, images: Tensor, names: readonly string[], scale: number): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const path = join(dir, `${names[i]}.png`);
    await writePng(path, gridPixels(sliceImages(images, i, 1), { cols: 1, padding: 0, scale }));
    paths.push(path);
  }
  return paths;
}

/**
 * Writes frames [F, C, H, W] in [-1, 1] as an animated GIF that loops forever, `delayMs` per frame.
 * Gray images are written as RGB because GIF frames from sharp's raw input need 3 or 4 channels.
 */
export async function writeGif(path: string, frames: Tensor, opts: { scale: number; delayMs: number }): Promise<void> {
  const count = frames.shape[0]!;
  const pages = [];
  for (let f = 0; f < count; f++) pages.push(gridPixels(sliceImages(frames, f, 1), { cols: 1, padding: 0, scale: opts.scale }));
  const { width, height, channels } = pages[0]!;
  const rgb = Buffer.alloc(width * height * 3 * count);
  pages.forEach((page, f) => {
    for (let p = 0; p < width * height; p++) {
      for (let k = 0; k < 3; k++) rgb[(f * width * height + p) * 3 + k] = page.data[p * channels + (channels === 1 ? 0 : k)]!;
    }
  });

  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await sharp(rgb, { raw: { width, height: height * count, channels: 3, pageHeight: height } })
      .gif({ loop: 0, delay: new Array<number>(count).fill(opts.delayMs) })
      .toFile(temporary);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new Error(`failed to write GIF ${path}: ${(error as Error).message}`);
  }
}
