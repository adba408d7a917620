import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  DataError,
  FASHION_MNIST_SYSTEM_DIR,
  loadDataset,
  loadSystemFashionMnist,
  type ImageDataset,
} from '../../src/runtime/data.ts';

/** Parses the raw 28x28 frames of the shipped test split independently of the loader. */
function rawEmbeddedFrames(): Uint8Array {
  const bytes = gunzipSync(readFileSync(new URL('../../data/fashion-mnist/t10k-images-idx3-ubyte.gz', import.meta.url)));
  expect(bytes.readUInt32BE(0)).toBe(0x803);
  expect(bytes.readUInt32BE(4)).toBe(10_000);
  return bytes.subarray(16);
}

/** Writes an RGB or RGBA image whose pixel colours come from `colourAt`. */
async function writeBlocks(
  path: string,
  width: number,
  height: number,
  colourAt: (x: number, y: number) => number[],
  channels: 3 | 4 = 3,
): Promise<void> {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colourAt(x, y), (y * width + x) * channels);
  }
  await sharp(data, { raw: { width, height, channels } }).toFile(path);
}

const RED = [255, 0, 0];
const BLUE = [0, 0, 255];

function pixel(t: { shape: number[]; data: Float32Array }, n: number, c: number, y: number, x: number): number {
  const [, channels, h, w] = t.shape as [number, number, number, number];
  return t.data[((n * channels + c) * h + y) * w + x]!;
}

describe('embedded Fashion-MNIST', () => {
  let dataset: ImageDataset;
  beforeAll(async () => {
    dataset = await loadDataset(undefined, { channels: 1, resolution: 32 });
  });

  it('describes the test split', () => {
    expect(dataset.count).toBe(10_000);
    expect(dataset.channels).toBe(1);
    expect(dataset.resolution).toBe(32);
    expect(dataset.description).toBe('Fashion-MNIST test split (embedded), 10,000 images');
  });

  it('pads 28x28 frames to 32x32', () => {
    const frames = rawEmbeddedFrames();
    const image = 7;
    const batch = dataset.batch([image], 32);
    expect(batch.shape).toEqual([1, 1, 32, 32]);
    let mismatches = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        const raw = inside ? frames[image * 784 + (y - 2) * 28 + (x - 2)]! : 0;
        if (Math.abs(pixel(batch, 0, 0, y, x) - (raw / 127.5 - 1)) > 1e-6) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('box-filters lower resolutions', () => {
    const full = dataset.batch([0, 1], 32);
    const half = dataset.batch([0, 1], 16);
    const quarter = dataset.batch([1], 8);
    expect(half.shape).toEqual([2, 1, 16, 16]);
    for (const [y, x] of [[5, 7], [8, 8], [15, 0]] as const) {
      const mean =
        (pixel(full, 1, 0, 2 * y, 2 * x) +
          pixel(full, 1, 0, 2 * y + 1, 2 * x) +
          pixel(full, 1, 0, 2 * y, 2 * x + 1) +
          pixel(full, 1, 0, 2 * y + 1, 2 * x + 1)) /
        4;
      expect(pixel(half, 1, 0, y, x)).toBeCloseTo(mean, 5);
    }
    let sum = 0;
    for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += pixel(full, 1, 0, 12 + dy, 8 + dx);
    expect(pixel(quarter, 0, 0, 3, 2)).toBeCloseTo(sum / 16, 5);
  });

  it('mirrors selected images', () => {
    const plain = dataset.batch([3, 4], 32);
    const mirrored = dataset.batch([3, 4], 32, [true, false]);
    for (const [y, x] of [[10, 3], [16, 20], [31, 31]] as const) {
      expect(pixel(mirrored, 0, 0, y, x)).toBe(pixel(plain, 0, 0, y, 31 - x));
      expect(pixel(mirrored, 1, 0, y, x)).toBe(pixel(plain, 1, 0, y, x));
    }
  });

  it('repeats gray into three channels', async () => {
    const rgb = await loadDataset('embedded', { channels: 3, resolution: 16 });
    const batch = rgb.batch([2], 16);
    const gray = dataset.batch([2], 16);
    expect(batch.shape).toEqual([1, 3, 16, 16]);
    for (let c = 0; c < 3; c++) expect(pixel(batch, 0, c, 9, 7)).toBe(pixel(gray, 0, 0, 9, 7));
    expect(() => rgb.batch([2], 32)).toThrow(/invalid batch resolution 32/);
  });

  it('upscales to 64 at load', async () => {
    const big = await loadDataset(undefined, { channels: 1, resolution: 64 });
    expect(big.count).toBe(10_000);
    expect(big.description).toMatch(/upscaled from 28x28/);
    const batch = big.batch([7], 64);
    const values = Array.from(batch.data);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    // Box-filtering the 2x upscaled image back down recovers the 32x32 frame up to the
    // filter's blur, so the two differ little on average.
    const down = big.batch([7, 9000], 32);
    const original = dataset.batch([7, 9000], 32);
    let difference = 0;
    for (let i = 0; i < down.data.length; i++) difference += Math.abs(down.data[i]! - original.data[i]!);
    expect(difference / down.data.length).toBeLessThan(0.05);
    expect(difference).toBeGreaterThan(0);
    expect(pixel(big.batch([7], 64), 0, 0, 20, 0)).toBe(-1);
  }, 20_000);

  it('rejects invalid batch requests', () => {
    expect(() => dataset.batch([10_000], 32)).toThrow('image index 10000 out of range: the data set has 10000 images');
    expect(() => dataset.batch([0], 12)).toThrow(/invalid batch resolution 12/);
    expect(() => dataset.batch([0, 1], 32, [true])).toThrow(/mirror flags \(1\) do not match the batch size \(2\)/);
  });
});

describe('system Fashion-MNIST', () => {
  it('explains how to install it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sganc-no-fmnist-'));
    const load = loadSystemFashionMnist(empty, { channels: 1, resolution: 32 });
    await expect(load).rejects.toThrow(DataError);
    await expect(loadSystemFashionMnist(empty, { channels: 1, resolution: 32 })).rejects.toThrow(
      /apt-get install dataset-fashion-mnist.*embedded 10,000-image test split/,
    );
  });

  it.runIf(existsSync(join(FASHION_MNIST_SYSTEM_DIR, 'train-images-idx3-ubyte.gz')))(
    'loads 70,000 images when installed',
    async () => {
      const full = await loadDataset('fashion-mnist', { channels: 1, resolution: 32 });
      expect(full.count).toBe(70_000);
      expect(full.description).toContain('70,000 images');
    },
    30_000,
  );
});


describe('image folder', () => {
  let folder: string;
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'sganc-images-'));
    mkdirSync(join(folder, 'sub'));
    // 64x32: red on the left half, blue on the right half.
    await writeBlocks(join(folder, 'a-wide.png'), 64, 32, (x) => (x < 32 ? RED : BLUE));
    await writeBlocks(join(folder, 'sub', 'b-gray.jpg'), 40, 40, () => [128, 128, 128]);
    await writeBlocks(join(folder, 'sub', 'c-alpha.png'), 32, 32, () => [0, 255, 0, 10], 4);
    writeFileSync(join(folder, 'd-broken.png'), 'not a png');
    writeFileSync(join(folder, 'notes.txt'), 'ignored');
  });

  it('centre-crops, recurses and skips broken files', async () => {
    const warnings: string[] = [];
    const dataset = await loadDataset(folder, { channels: 3, resolution: 32, warn: (m) => warnings.push(m) });
    expect(dataset.count).toBe(3);
    expect(dataset.description).toContain('3 images (1 unreadable skipped)');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 1 unreadable image file\(s\) in .*d-broken\.png/);

    // Sorted order: a-wide.png, sub/b-gray.jpg, sub/c-alpha.png. The crop keeps columns 16..47, so
    // the left half of the result is red and the right half blue.
    const batch = dataset.batch([0, 1, 2], 32);
    expect(pixel(batch, 0, 0, 10, 3)).toBe(1);
    expect(pixel(batch, 0, 2, 10, 3)).toBe(-1);
    expect(pixel(batch, 0, 0, 10, 28)).toBe(-1);
    expect(pixel(batch, 0, 2, 10, 28)).toBe(1);
    // JPEG gray 128 decodes within a few levels of 128, that is about 0.004 in [-1, 1].
    for (let c = 0; c < 3; c++) expect(Math.abs(pixel(batch, 1, c, 20, 20))).toBeLessThan(0.05);
    // Alpha is dropped, not composited: the colour stays pure green.
    expect(pixel(batch, 2, 0, 5, 5)).toBe(-1);
    expect(pixel(batch, 2, 1, 5, 5)).toBe(1);
  });

  it('pads to a square on request', async () => {
    const dataset = await loadDataset(folder, { channels: 3, resolution: 32, pad: true });
    // 64x32 fits as 32x16 with 8 black rows above and below.
    const batch = dataset.batch([0], 32);
    for (let c = 0; c < 3; c++) expect(pixel(batch, 0, c, 2, 10)).toBe(-1);
    expect(pixel(batch, 0, 0, 16, 4)).toBeCloseTo(1, 1);
    expect(pixel(batch, 0, 2, 16, 27)).toBeCloseTo(1, 1);
  });

  it('converts to grayscale', async () => {
    const dataset = await loadDataset(folder, { channels: 1, resolution: 16 });
    const batch = dataset.batch([0, 1], 16);
    expect(batch.shape).toEqual([2, 1, 16, 16]);
    expect(Math.abs(pixel(batch, 1, 0, 8, 8))).toBeLessThan(0.05);
    // Pure red and pure blue are dark but not black in any luminance formula.
    expect(pixel(batch, 0, 0, 8, 2)).toBeGreaterThan(-0.9);
    expect(pixel(batch, 0, 0, 8, 2)).toBeLessThan(0);
  });

  it('decodes gray and 16-bit PNGs', async () => {
    const depths = mkdtempSync(join(tmpdir(), 'sganc-depths-'));
    const gray = Buffer.alloc(32 * 32, 200);
    await sharp(gray, { raw: { width: 32, height: 32, channels: 1 } }).toColourspace('b-w').png().toFile(join(depths, 'a-gray8.png'));
    await sharp(gray, { raw: { width: 32, height: 32, channels: 1 } }).toColourspace('grey16').png().toFile(join(depths, 'b-gray16.png'));
    const rgb = Buffer.alloc(32 * 32 * 3, 100);
    await sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } }).toColourspace('rgb16').png().toFile(join(depths, 'c-rgb16.png'));

    // 8-bit 200 maps to 200 / 127.5 - 1 and 100 to 100 / 127.5 - 1, whatever the stored depth.
    const rgbSet = await loadDataset(depths, { channels: 3, resolution: 16 });
    expect(rgbSet.count).toBe(3);
    const batch = rgbSet.batch([0, 1, 2], 16);
    for (let c = 0; c < 3; c++) {
      expect(pixel(batch, 0, c, 8, 8)).toBeCloseTo(200 / 127.5 - 1, 2);
      expect(pixel(batch, 1, c, 8, 8)).toBeCloseTo(200 / 127.5 - 1, 2);
      expect(pixel(batch, 2, c, 8, 8)).toBeCloseTo(100 / 127.5 - 1, 2);
    }
    const graySet = await loadDataset(depths, { channels: 1, resolution: 16 });
    expect(pixel(graySet.batch([1], 16), 0, 0, 8, 8)).toBeCloseTo(200 / 127.5 - 1, 2);
  });

  it('applies EXIF orientation', async () => {
    const rotated = mkdtempSync(join(tmpdir(), 'sganc-exif-'));
    // Stored 40x20 with red on the left and blue on the right. Orientation 6 means "rotate 90 degrees
    // clockwise to display", which puts the stored left edge at the top: red above, blue below.
    const stored = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) stored.set(x < 20 ? RED : BLUE, (y * 40 + x) * 3);
    await sharp(stored, { raw: { width: 40, height: 20, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toFile(join(rotated, 'phone.jpg'));
    const dataset = await loadDataset(rotated, { channels: 3, resolution: 16 });
    const batch = dataset.batch([0], 16);
    expect(pixel(batch, 0, 0, 2, 8)).toBeGreaterThan(0.8);
    expect(pixel(batch, 0, 2, 2, 8)).toBeLessThan(-0.8);
    expect(pixel(batch, 0, 0, 13, 8)).toBeLessThan(-0.8);
    expect(pixel(batch, 0, 2, 13, 8)).toBeGreaterThan(0.8);
  });

  it('rejects small images unless upscaling', async () => {
    const small = mkdtempSync(join(tmpdir(), 'sganc-small-'));
    await writeBlocks(join(small, 'tiny.png'), 16, 16, () => RED);
    await expect(loadDataset(small, { channels: 3, resolution: 32 })).rejects.toThrow(
      /1 image\(s\) in .* are smaller than 32x32, for example .*tiny\.png/,
    );
    const upscaled = await loadDataset(small, { channels: 3, resolution: 32, upscale: true });
    expect(upscaled.batch([0], 32).shape).toEqual([1, 3, 32, 32]);
    expect(pixel(upscaled.batch([0], 32), 0, 0, 16, 16)).toBeCloseTo(1, 2);
  });

  it('rejects folders without images', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sganc-empty-'));
    await expect(loadDataset(empty, { channels: 1, resolution: 32 })).rejects.toThrow(/no PNG or JPEG images found in folder/);
    writeFileSync(join(empty, 'x.jpg'), 'garbage');
    await expect(loadDataset(empty, { channels: 1, resolution: 32 })).rejects.toThrow(
      /none of the 1 image files in .* could be decoded/,
    );
  });

  it('rejects missing paths and bad options', async () => {
    await expect(loadDataset('/nonexistent/sganc-data', { channels: 1, resolution: 32 })).rejects.toThrow(
      "data source '/nonexistent/sganc-data' not found",
    );
    await expect(loadDataset(join(folder, 'notes.txt'), { channels: 1, resolution: 32 })).rejects.toThrow(/is not a folder/);
    await expect(loadDataset(undefined, { channels: 2, resolution: 32 })).rejects.toThrow(/invalid channel count 2/);
    await expect(loadDataset(undefined, { channels: 1, resolution: 30 })).rejects.toThrow(/invalid resolution 30/);
    await expect(loadDataset(folder, { channels: 3, resolution: 2 ** 15 })).rejects.toThrow(/more than the 2 GiB limit/);
  });
});
