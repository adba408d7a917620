// The Frechet distance of `sganc metrics` and of the trainer's `--metrics-ticks`: features of real and
// generated images from the shipped Fashion-MNIST classifier, Gaussians fitted to each set, and the
// distance between them. Both callers share this code, so their values compare.

import type { ImageDataset } from '../data.ts';
import { Rng } from '../rng.ts';
import type { CompiledProgram, Target } from '../target.ts';
import { type Tensor, tensor, type TensorMap } from '../tensor.ts';
import { buildClassifier, CLASSIFIER_RES, FEATURE_DIM, loadClassifier } from './classifier.ts';
import { frechetDistance, meanAndCovariance } from './frechet.ts';

/** Images per classifier run, and so the length of every `indices` list an ImageSource gets. */
export const FEATURE_BATCH = 100;

/** The mean and covariance of one image set's features. */
export type FeatureStats = ReturnType<typeof meanAndCovariance>;

/** Returns images for positions `indices` of a set (a position may repeat to fill a batch). */
export type ImageSource = (indices: number[]) => Tensor | Promise<Tensor>;

/** The classifier compiled on one target, with its weights, ready to turn images into features. */
export class FeatureExtractor {
  readonly testAccuracy: number;
  private readonly program: CompiledProgram;
  private readonly params: TensorMap;

  constructor(target: Target) {
    const classifier = loadClassifier();
    this.testAccuracy = classifier.testAccuracy;
    this.params = classifier.params;
    this.program = target.compile(buildClassifier(FEATURE_BATCH), 'classifier.features');
  }

  /**
   * Returns the features [count, FEATURE_DIM] of images 0..count-1 of `images`. Images smaller than
   * the classifier's 32 x 32 are upscaled by pixel repetition.
   */
  async features(count: number, images: ImageSource): Promise<Float32Array> {
    const out = new Float32Array(count * FEATURE_DIM);
    for (let first = 0; first < count; first += FEATURE_BATCH) {
      // The last batch repeats the last image to fill the program's fixed batch.
      const indices = Array.from({ length: FEATURE_BATCH }, (_, k) => Math.min(first + k, count - 1));
      const x = upscaleTo(await images(indices), CLASSIFIER_RES);
      const result = await this.program.run({ x, ...this.params });
      const rows = Math.min(FEATURE_BATCH, count - first);
      out.set(result['features']!.data.subarray(0, rows * FEATURE_DIM), first * FEATURE_DIM);
    }
    return out;
  }

  /** Returns the mean and covariance of the features of images 0..count-1. */
  async stats(count: number, images: ImageSource): Promise<FeatureStats> {
    return meanAndCovariance(await this.features(count, images), count, FEATURE_DIM);
  }
}

/** Returns the Frechet distance between two feature sets' Gaussians. */
export function featureDistance(first: FeatureStats, second: FeatureStats): number {
  return frechetDistance(first, second, FEATURE_DIM);
}

/**
 * Returns a fixed random order of a data set's images (seeded, so every run and every command
 * compares against the same reals).
 */
export function realOrder(dataset: ImageDataset): number[] {
  const rng = new Rng(0);
  const order = Array.from({ length: dataset.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Upscales images [N, C, s, s] to [N, C, size, size] by repeating each pixel. `size` must be a
 * multiple of s. Images already of that size are returned as they are.
 */
export function upscaleTo(images: Tensor, size: number): Tensor {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  if (h === size && w === size) return images;
  if (h !== w || size % h !== 0) throw new Error(`cannot upscale ${h} x ${w} images to ${size} x ${size}`);
  const factor = size / h;
  const out = tensor([n, c, size, size]);
  for (let plane = 0; plane < n * c; plane++) {
    for (let y = 0; y < size; y++) {
      const row = plane * h * w + Math.floor(y / factor) * w;
      for (let x = 0; x < size; x++) out.data[plane * size * size + y * size + x] = images.data[row + Math.floor(x / factor)]!;
    }
  }
  return out;
}
