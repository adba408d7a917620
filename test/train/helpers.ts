// Fixtures for the training tests: a tiny model whose phases change every few iterations and a
// folder of small PNG images to train on.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';

import type { ModelSpec, TrainRecipe } from '../../src/model/spec.ts';
import { tinySpec } from '../layers/tiny-spec.ts';

/**
 * Returns an 8x8 model with 4 channels and batch 4, grown from 4x4: 2 iterations at 4x4 (0.008 kimg), 2
 * fading in 8x8, then stable at 8x8.
 */
export function tinyTrainSpec(overrides: Partial<TrainRecipe> = {}): ModelSpec {
  const spec = tinySpec({ channels: { 4: 4, 8: 4 }, zDim: 8, wDim: 8 });
  spec.train = {
    ...spec.train,
    grow: { startRes: 4, stableKimg: 0.008, fadeKimg: 0.008 },
    emaKimg: 0.01,
    ...overrides,
  };
  return spec;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sganc-${prefix}-`));
}

/** Writes `count` 8x8 grayscale PNGs of bars and blocks into a new folder and returns its path. */
export async function writeImageFolder(count = 24, size = 8): Promise<string> {
  const dir = join(tempDir('images'), 'images');
  mkdirSync(dir);
  for (let i = 0; i < count; i++) {
    const pixels = Buffer.alloc(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const bar = (x + i) % 4 < 2;
        const block = y >= (i % size) / 2;
        pixels[y * size + x] = bar && block ? 230 : 20 + 5 * (i % 7);
      }
    }
    await sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toFile(join(dir, `image-${i}.png`));
  }
  return dir;
}
