import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';

import { gridPixels, writeImageGrid } from '../../src/runtime/images.ts';
import { tensor } from '../../src/runtime/tensor.ts';

describe('gridPixels', () => {
  it('lays out gray images by hand', () => {
    // Two 2x2 images, padding 1, scale 2: cells are 4x4 and padding 2, so the grid is
    // 2 * 4 + 3 * 2 = 14 wide and 4 + 2 * 2 = 8 high. -1 -> 0, 0 -> 128 (127.5 rounded), 1 -> 255.
    const images = tensor([2, 1, 2, 2], [-1, 0, 1, 3, 0.5, -0.5, -2, 1]);
    const grid = gridPixels(images, { cols: 2, padding: 1, scale: 2 });
    expect(grid.width).toBe(14);
    expect(grid.height).toBe(8);
    expect(grid.channels).toBe(1);
    const at = (x: number, y: number): number => grid.data[y * grid.width + x]!;

    expect(at(0, 0)).toBe(128); // padding
    expect(at(2, 2)).toBe(0); // image 0 (0, 0) = -1
    expect(at(3, 3)).toBe(0);
    expect(at(4, 2)).toBe(128); // image 0 (0, 1) = 0
    expect(at(2, 4)).toBe(255); // image 0 (1, 0) = 1
    expect(at(5, 5)).toBe(255); // image 0 (1, 1) = 3, clamped
    expect(at(6, 2)).toBe(128); // padding between cells
    expect(at(8, 2)).toBe(191); // image 1 (0, 0) = 0.5 -> 191.25
    expect(at(10, 3)).toBe(64); // image 1 (0, 1) = -0.5 -> 63.75
    expect(at(8, 4)).toBe(0); // image 1 (1, 0) = -2, clamped
    expect(at(11, 5)).toBe(255);
    expect(at(13, 7)).toBe(128);
  });

  it('interleaves RGB channels', () => {
    // One 1x1 image: red = 1, green = -1, blue = 0.
    const grid = gridPixels(tensor([1, 3, 1, 1], [1, -1, 0]), { padding: 0 });
    expect(grid.width).toBe(1);
    expect(grid.height).toBe(1);
    expect(Array.from(grid.data)).toEqual([255, 0, 128]);
  });

  it('defaults to a square layout', () => {
    // Five 4x4 images: ceil(sqrt(5)) = 3 columns, 2 rows, padding 2.
    const grid = gridPixels(tensor([5, 1, 4, 4], new Array(80).fill(1)));
    expect(grid.width).toBe(3 * 4 + 4 * 2);
    expect(grid.height).toBe(2 * 4 + 3 * 2);
    // The sixth cell (row 1, column 2) is empty and stays padding.
    expect(grid.data[(2 + 4 + 2 + 1) * grid.width + 2 + 2 * (4 + 2) + 1]).toBe(128);
    expect(grid.data[(2 + 4 + 2 + 1) * grid.width + 2 + 1 * (4 + 2) + 1]).toBe(255);
  });

  it('maps NaN to black', () => {
    const grid = gridPixels(tensor([1, 1, 1, 1], [NaN]), { padding: 0 });
    expect(grid.data[0]).toBe(0);
  });

  it('rejects invalid shapes and options', () => {
    expect(() => gridPixels(tensor([2, 2, 2]))).toThrow(/needs images \[N, C, H, W\], got shape \[2, 2, 2\]/);
    expect(() => gridPixels(tensor([1, 2, 2, 2]))).toThrow(/needs 1 or 3 channels, got 2/);
    expect(() => gridPixels(tensor([0, 1, 2, 2]))).toThrow(/needs at least one non-empty image, got shape \[0, 1, 2, 2\]/);
    expect(() => gridPixels({ shape: [1, 1, 2, 2], data: new Float32Array(3) })).toThrow(/invalid image tensor: 3 values/);
    expect(() => gridPixels(tensor([1, 1, 2, 2]), { scale: 1.5 })).toThrow(/invalid image grid scale 1.5/);
    expect(() => gridPixels(tensor([1, 1, 2, 2]), { cols: 0 })).toThrow(/invalid image grid cols 0/);
  });
});

describe('writeImageGrid', () => {
  it('writes a gray PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sganc-grid-'));
    const path = join(dir, 'samples', 'grid.png');
    const images = tensor([4, 1, 2, 2], [-1, 1, 1, -1, 0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1]);
    await writeImageGrid(path, images, { scale: 3 });
    expect(readdirSync(join(dir, 'samples'))).toEqual(['grid.png']);

    const png = PNG.sync.read(readFileSync(path));
    // 2 columns of 6-pixel cells with 6-pixel padding: 2 * 6 + 3 * 6 = 30.
    expect(png.width).toBe(30);
    expect(png.height).toBe(30);
    // pngjs expands to RGBA. Image 0 pixel (0, 1) = 1 sits at x = 6 + 3, y = 6.
    const rgbaAt = (x: number, y: number): number[] => Array.from(png.data.subarray((y * 30 + x) * 4, (y * 30 + x) * 4 + 4));
    expect(rgbaAt(6, 6)).toEqual([0, 0, 0, 255]);
    expect(rgbaAt(9, 6)).toEqual([255, 255, 255, 255]);
    expect(rgbaAt(0, 0)).toEqual([128, 128, 128, 255]);
    expect(png.colorType).toBe(0); // grayscale
  });

  it('writes an RGB PNG', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sganc-grid-')), 'rgb.png');
    await writeImageGrid(path, tensor([1, 3, 1, 1], [1, -1, -1]), { padding: 1 });
    const png = PNG.sync.read(readFileSync(path));
    expect(png.width).toBe(3);
    expect(Array.from(png.data.subarray((1 * 3 + 1) * 4, (1 * 3 + 1) * 4 + 4))).toEqual([255, 0, 0, 255]);
    expect(png.colorType).toBe(2); // RGB
  });
});
