// Training images: the embedded Fashion-MNIST test split (the default), the full Fashion-MNIST set from
// Debian's dataset-fashion-mnist package, or a folder of PNG and JPEG files. Every source is decoded
// once at load into one uint8 buffer, and batches are cut from it as float32 in [-1, 1].

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import sharp from 'sharp';

import type { Tensor } from './tensor.ts';

/** A data source that cannot be loaded, or load options that cannot be met. */
export class DataError extends Error {
  override name = 'DataError';
}

export interface ImageDataset {
  readonly count: number;
  readonly channels: number;
  readonly resolution: number;
  /** Human-readable source and size, for example "Fashion-MNIST test split (embedded), 10,000 images". */
  readonly description: string;
  /**
   * Returns images [indices.length, channels, res, res] in [-1, 1]. `res` is a power of two no larger
   * than `resolution`, box-filtered down from the full resolution. `mirror[i]` flips image i left-right.
   */
  batch(indices: readonly number[], res: number, mirror?: readonly boolean[]): Tensor;
}

export interface LoadOptions {
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  /** Side of the square images the model trains on, a power of two. */
  resolution: number;
  /** Pad non-square folder images to a square with black instead of centre-cropping them. */
  pad?: boolean;
  /** Allow folder images smaller than `resolution`, which are then upscaled. */
  upscale?: boolean;
  /** Receives non-fatal problems, such as the number of unreadable files skipped. */
  warn?: (message: string) => void;
}

/** Directory of Debian's dataset-fashion-mnist package. */
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/** Directory of the shipped Fashion-MNIST test split, relative to this module. */
const EMBEDDED_DIR = fileURLToPath(new URL('../../data/fashion-mnist/', import.meta.url));

/**
 * Largest decoded data set we hold in memory (2 GiB). Above it, loading fails with a request for a
 * lower resolution or fewer images instead of exhausting memory mid-way.
 */
export const MAX_DATASET_BYTES = 2 ** 31;

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** Number of images sharp decodes at once. Each decode also uses sharp's own thread pool. */
const DECODE_CONCURRENCY = 8;

/**
 * Loads training images from `source`: undefined or 'embedded' for the shipped Fashion-MNIST test
 * split, 'fashion-mnist' for Debian's full 70,000-image set, or a folder of PNG and JPEG files.
 * Throws DataError for a source that does not exist or yields no usable images.
 */
export async function loadDataset(source: string | undefined, opts: LoadOptions): Promise<ImageDataset> {
  checkOptions(opts);
  if (source === undefined || source === 'embedded') {
    return loadFashionMnistFrom(EMBEDDED_DIR, ['t10k'], 'Fashion-MNIST test split (embedded)', opts);
  }
  if (source === 'fashion-mnist') {
    return loadSystemFashionMnist(FASHION_MNIST_SYSTEM_DIR, opts);
  }
  const folder = resolve(source);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(folder).isDirectory();
  } catch {
    throw new DataError(
      `data source '${source}' not found: expected 'embedded', 'fashion-mnist' or a folder of PNG/JPEG images`,
    );
  }
  if (!isDirectory) {
    throw new DataError(`data source '${source}' is not a folder: expected a folder of PNG/JPEG images`);
  }
  return loadImageFolder(folder, opts);
}

/**
 * Loads the 70,000 Fashion-MNIST training and test images from `dir`, the directory where Debian's
 * dataset-fashion-mnist package puts them unless a test points elsewhere.
 */
export async function loadSystemFashionMnist(dir: string, opts: LoadOptions): Promise<ImageDataset> {
  if (!existsSync(join(dir, 'train-images-idx3-ubyte.gz'))) {
    throw new DataError(
      `Fashion-MNIST not found in ${dir}: install it with ` +
        '`apt-get install dataset-fashion-mnist`, or leave out the data source to train on the ' +
        'embedded 10,000-image test split',
    );
  }
  return loadFashionMnistFrom(dir, ['train', 't10k'], `Fashion-MNIST (${dir})`, opts);
}

/**
 * Loads Fashion-MNIST idx files `<split>-images-idx3-ubyte.gz` for each split from `dir`. The 28x28
 * frames are padded with 2 background pixels per side to 32x32, an exact step that keeps strokes
 * crisp. Smaller resolutions are box-filtered from 32x32 in batch(). Larger ones are upscaled from
 * 32x32 with a separable lanczos3 filter at load.
 */
export async function loadFashionMnistFrom(
  dir: string,
  splits: readonly string[],
  label: string,
  opts: LoadOptions,
): Promise<ImageDataset> {
  checkOptions(opts);
  const frames = splits.map((split) => readIdxImages(join(dir, `${split}-images-idx3-ubyte.gz`)));
  const count = frames.reduce((sum, f) => sum + f.count, 0);
  const padded = new Uint8Array(count * 32 * 32);
  let offset = 0;
  for (const f of frames) {
    if (f.rows !== 28 || f.cols !== 28) {
      throw new DataError(`${dir}: expected 28x28 Fashion-MNIST images, found ${f.rows}x${f.cols}`);
    }
    for (let i = 0; i < f.count; i++) {
      padFrame(f.pixels, i * 28 * 28, padded, (offset + i) * 32 * 32);
    }
    offset += f.count;
  }

  const description = `${label}, ${count.toLocaleString('en-US')} images`;
  if (opts.resolution <= 32) {
    return new PixelDataset(padded, count, 1, 32, opts.channels, opts.resolution, description);
  }

  const res = opts.resolution;
  checkMemory(count, 1, res, label);
  const upscaled = new Uint8Array(count * res * res);
  const weights = lanczos3Weights(32, res);
  const rows = new Float32Array(res * 32);
  for (let i = 0; i < count; i++) {
    resizeFrame(padded.subarray(i * 1024, (i + 1) * 1024), 32, res, weights, rows, upscaled.subarray(i * res * res));
  }
  return new PixelDataset(
    upscaled,
    count,
    1,
    res,
    opts.channels,
    res,
    `${description}, upscaled from 28x28 padded to 32x32`,
  );
}

/** Images stored as uint8 [count, storedChannels, storedRes, storedRes]. */
class PixelDataset implements ImageDataset {
  constructor(
    private readonly pixels: Uint8Array,
    readonly count: number,
    private readonly storedChannels: number,
    private readonly storedRes: number,
    readonly channels: number,
    readonly resolution: number,
    readonly description: string,
  ) {}

  batch(indices: readonly number[], res: number, mirror?: readonly boolean[]): Tensor {
    if (!Number.isInteger(res) || res < 1 || res > this.resolution || (res & (res - 1)) !== 0) {
      throw new DataError(`invalid batch resolution ${res}: expected a power of two up to ${this.resolution}`);
    }
    if (mirror !== undefined && mirror.length !== indices.length) {
      throw new DataError(`mirror flags (${mirror.length}) do not match the batch size (${indices.length})`);
    }
    for (const index of indices) {
      if (!Number.isInteger(index) || index < 0 || index >= this.count) {
        throw new DataError(`image index ${index} out of range: the data set has ${this.count} images`);
      }
    }

    const out = new Float32Array(indices.length * this.channels * res * res);
    const factor = this.storedRes / res;
    // A box filter: each output pixel is the mean of a factor x factor block, mapped from
    // [0, 255] to [-1, 1].
    const scale = 2 / (255 * factor * factor);
    const plane = this.storedRes * this.storedRes;
    for (let n = 0; n < indices.length; n++) {
      const flip = mirror?.[n] === true;
      for (let c = 0; c < this.channels; c++) {
        // A grayscale source feeds every output channel.
        const sourceChannel = this.storedChannels === 1 ? 0 : c;
        const base = (indices[n]! * this.storedChannels + sourceChannel) * plane;
        const target = (n * this.channels + c) * res * res;
        for (let y = 0; y < res; y++) {
          for (let x = 0; x < res; x++) {
            let sum = 0;
            for (let dy = 0; dy < factor; dy++) {
              const row = base + (y * factor + dy) * this.storedRes + x * factor;
              for (let dx = 0; dx < factor; dx++) sum += this.pixels[row + dx]!;
            }
            const outX = flip ? res - 1 - x : x;
            out[target + y * res + outX] = sum * scale - 1;
          }
        }
      }
    }
    return { shape: [indices.length, this.channels, res, res], data: out };
  }
}

async function loadImageFolder(folder: string, opts: LoadOptions): Promise<ImageDataset> {
  const files = listImageFiles(folder);
  if (files.length === 0) {
    throw new DataError(`no PNG or JPEG images found in folder ${folder}`);
  }
  const { channels, resolution: res } = opts;
  checkMemory(files.length, channels, res, `folder ${folder}`);

  const imageBytes = channels * res * res;
  const pixels = new Uint8Array(files.length * imageBytes);
  const loaded = new Array<boolean>(files.length).fill(false);
  const unreadable: string[] = [];
  const tooSmall: string[] = [];
  await forEachConcurrently(files.length, async (i) => {
    const result = await decodeImage(files[i]!, opts);
    if (result === 'unreadable') unreadable.push(files[i]!);
    else if (result === 'too small') tooSmall.push(files[i]!);
    else {
      pixels.set(result, i * imageBytes);
      loaded[i] = true;
    }
  });

  if (tooSmall.length > 0) {
    tooSmall.sort();
    throw new DataError(
      `${tooSmall.length} image(s) in ${folder} are smaller than ${res}x${res}, for example ${tooSmall[0]}: ` +
        'use larger images, a lower resolution, or enable upscaling',
    );
  }
  // Compact the decoded images to the front, keeping the sorted file order.
  let count = 0;
  for (let i = 0; i < files.length; i++) {
    if (!loaded[i]) continue;
    if (count !== i) pixels.copyWithin(count * imageBytes, i * imageBytes, (i + 1) * imageBytes);
    count++;
  }
  if (count === 0) {
    throw new DataError(`none of the ${files.length} image files in ${folder} could be decoded`);
  }
  if (unreadable.length > 0) {
    unreadable.sort();
    opts.warn?.(
      `skipped ${unreadable.length} unreadable image file(s) in ${folder}, for example ${unreadable[0]}`,
    );
  }

  const skipped = unreadable.length > 0 ? ` (${unreadable.length} unreadable skipped)` : '';
  const description = `folder ${folder}, ${count.toLocaleString('en-US')} images${skipped}`;
  const compacted = count === files.length ? pixels : pixels.slice(0, count * imageBytes);
  return new PixelDataset(compacted, count, channels, res, channels, res, description);
}

/**
 * Decodes one file to uint8 [channels, res, res]: EXIF orientation applied, centre-cropped (or padded
 * with black) to a square, resized with lanczos3, alpha dropped, converted to grayscale or sRGB.
 */
async function decodeImage(file: string, opts: LoadOptions): Promise<Uint8Array | 'unreadable' | 'too small'> {
  const res = opts.resolution;
  try {
    const image = sharp(file, { failOn: 'error' }).autoOrient();
    const { width, height } = await image.metadata();
    const orientedSide = opts.pad === true ? Math.max(width, height) : Math.min(width, height);
    if (orientedSide < res && opts.upscale !== true) return 'too small';

    let pipeline = image
      .resize(res, res, {
        fit: opts.pad === true ? 'contain' : 'cover',
        position: 'centre',
        kernel: 'lanczos3',
        background: { r: 0, g: 0, b: 0, alpha: 1 },
      })
      .removeAlpha();
    pipeline = opts.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== opts.channels || info.width !== res || info.height !== res) {
      return 'unreadable';
    }
    return interleavedToPlanar(data, opts.channels, res);
  } catch {
    return 'unreadable';
  }
}

/** Converts HWC pixels (sharp's raw layout) to CHW. */
function interleavedToPlanar(data: Uint8Array, channels: number, res: number): Uint8Array {
  if (channels === 1) return data.slice(0, res * res);
  const out = new Uint8Array(channels * res * res);
  const plane = res * res;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) out[c * plane + p] = data[p * channels + c]!;
  }
  return out;
}

function listImageFiles(folder: string): string[] {
  const files: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile() && IMAGE_EXTENSIONS.has(extensionOf(entry.name))) files.push(path);
    }
  };
  visit(folder);
  return files.sort();
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot).toLowerCase();
}

/** Parses a gzipped idx3 file: magic 0x00000803, then count, rows and columns as big-endian uint32. */
function readIdxImages(path: string): { count: number; rows: number; cols: number; pixels: Uint8Array } {
  let bytes: Uint8Array;
  try {
    bytes = gunzipSync(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`Fashion-MNIST file not found: ${path}`);
    throw new DataError(`failed to read ${path}: ${(error as Error).message}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16 || view.getUint32(0) !== 0x803) {
    throw new DataError(`${path} is not an idx3 image file (invalid header)`);
  }
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const cols = view.getUint32(12);
  if (bytes.length !== 16 + count * rows * cols) {
    throw new DataError(`${path}: expected ${count} images of ${rows}x${cols} bytes, file is truncated or corrupt`);
  }
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/** Copies one 28x28 frame into the centre of a 32x32 frame whose border stays 0 (the background). */
function padFrame(source: Uint8Array, sourceOffset: number, target: Uint8Array, targetOffset: number): void {
  for (let y = 0; y < 28; y++) {
    const row = source.subarray(sourceOffset + y * 28, sourceOffset + (y + 1) * 28);
    target.set(row, targetOffset + (y + 2) * 32 + 2);
  }
}

/** Taps of a 1-D resize from `from` to `to` samples: for each output sample, source indices and weights. */
interface ResizeTaps {
  indices: Int32Array[];
  weights: Float32Array[];
}

/**
 * Computes lanczos3 taps for upscaling (to >= from). Sample centres are aligned as (i + 0.5) / scale,
 * edges are clamped, and each row of weights is normalised to sum to 1.
 */
function lanczos3Weights(from: number, to: number): ResizeTaps {
  const scale = to / from;
  const lanczos = (x: number): number => {
    if (x === 0) return 1;
    if (Math.abs(x) >= 3) return 0;
    const px = Math.PI * x;
    return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
  };
  const taps: ResizeTaps = { indices: [], weights: [] };
  for (let i = 0; i < to; i++) {
    const centre = (i + 0.5) / scale - 0.5;
    const first = Math.floor(centre) - 2;
    const indices = new Int32Array(6);
    const weights = new Float32Array(6);
    let total = 0;
    for (let k = 0; k < 6; k++) {
      const source = first + k;
      indices[k] = Math.min(from - 1, Math.max(0, source));
      weights[k] = lanczos(centre - source);
      total += weights[k]!;
    }
    for (let k = 0; k < 6; k++) weights[k]! /= total;
    taps.indices.push(indices);
    taps.weights.push(weights);
  }
  return taps;
}

/** Resizes one square frame, rows first, then columns, rounding and clamping to [0, 255]. */
function resizeFrame(
  source: Uint8Array,
  from: number,
  to: number,
  taps: ResizeTaps,
  scratch: Float32Array,
  target: Uint8Array,
): void {
  // scratch is [from rows, to columns]: each source row resized horizontally.
  for (let y = 0; y < from; y++) {
    for (let x = 0; x < to; x++) {
      const indices = taps.indices[x]!;
      const weights = taps.weights[x]!;
      let sum = 0;
      for (let k = 0; k < 6; k++) sum += weights[k]! * source[y * from + indices[k]!]!;
      scratch[y * to + x] = sum;
    }
  }
  for (let y = 0; y < to; y++) {
    const indices = taps.indices[y]!;
    const weights = taps.weights[y]!;
    for (let x = 0; x < to; x++) {
      let sum = 0;
      for (let k = 0; k < 6; k++) sum += weights[k]! * scratch[indices[k]! * to + x]!;
      target[y * to + x] = Math.min(255, Math.max(0, Math.round(sum)));
    }
  }
}

function checkOptions(opts: LoadOptions): void {
  if (opts.channels !== 1 && opts.channels !== 3) {
    throw new DataError(`invalid channel count ${opts.channels}: expected 1 (grayscale) or 3 (RGB)`);
  }
  const res = opts.resolution;
  if (!Number.isInteger(res) || res < 1 || (res & (res - 1)) !== 0) {
    throw new DataError(`invalid resolution ${res}: expected a power of two`);
  }
}

function checkMemory(count: number, channels: number, res: number, label: string): void {
  const bytes = count * channels * res * res;
  if (bytes > MAX_DATASET_BYTES) {
    const gib = (bytes / 2 ** 30).toFixed(1);
    throw new DataError(
      `${label}: ${count} images at ${channels}x${res}x${res} need ${gib} GiB, more than the 2 GiB limit. ` +
        'Use a lower resolution or fewer images',
    );
  }
}

async function forEachConcurrently(count: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DECODE_CONCURRENCY, count) }, worker));
}
