// The trainer's periodic quality metric: the Frechet distance of `sganc metrics` between the EMA
// generator's images at the current stage and the reals at the same resolution.

import type { ModelSpec } from '../../model/spec.ts';
import { CLASSIFIER_RES } from '../sample/classifier.ts';
import { FeatureExtractor, featureDistance, type FeatureStats, type ImageSource, realOrder } from '../sample/fd.ts';
import type { ImageDataset } from '../data.ts';
import type { Target } from '../target.ts';
import { UsageError } from './options.ts';

/** Throws UsageError unless the shipped classifier can read the model's images. */
export function checkMetricsSupport(spec: ModelSpec): void {
  if (spec.imageChannels !== 1 || spec.resolution > CLASSIFIER_RES) {
    throw new UsageError(
      `--metrics-ticks needs 1-channel images of at most ${CLASSIFIER_RES} x ${CLASSIFIER_RES} (the metric's classifier reads ` +
        `Fashion-MNIST-like images), but ${spec.name} generates ${spec.imageChannels} x ${spec.resolution} x ${spec.resolution}`,
    );
  }
}

/**
 * Measures the Frechet distance at the resolutions of progressive growing. Images below 32 x 32 are
 * upscaled for the classifier, reals included, so a stage compares like with like. The features of
 * the reals are computed once per resolution.
 */
export class TickMetrics {
  private readonly extractor: FeatureExtractor;
  private readonly order: number[];
  private readonly realStats = new Map<number, FeatureStats>();

  constructor(
    target: Target,
    private readonly dataset: ImageDataset,
    readonly samples: number,
  ) {
    if (dataset.count < samples) {
      throw new UsageError(`--metrics-samples ${samples} is more than the ${dataset.count} images of ${dataset.description}`);
    }
    this.extractor = new FeatureExtractor(target);
    this.order = realOrder(dataset);
  }

  /** Returns the distance between `samples` generated images at `res` and as many reals. */
  async measure(res: number, fakes: ImageSource): Promise<number> {
    let reals = this.realStats.get(res);
    if (reals === undefined) {
      reals = await this.extractor.stats(this.samples, (indices) => this.dataset.batch(indices.map((i) => this.order[i]!), res));
      this.realStats.set(res, reals);
    }
    return featureDistance(reals, await this.extractor.stats(this.samples, fakes));
  }
}
