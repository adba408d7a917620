// `sganc metrics`: a Frechet distance between real and generated images for Fashion-MNIST models.

import { COMMON_OPTIONS_HELP, runMetrics } from '../../runtime/sample/commands.ts';
import { compileCached, readModelText } from './train.ts';

export const metricsHelp = `Usage: sganc metrics RUN|CHECKPOINT [--metric fd] [--samples 2000] [--data SOURCE] [options]

Prints the Frechet distance (FD) between --samples real images and as many generated ones (seeds 0,
1, ...) in the feature space of a small Fashion-MNIST classifier that ships with sganc, then the FD
between two disjoint sets of real images for comparison. Lower is better. This is not Inception
FID: its values compare only with other values of this command at the same resolution. Only
1-channel checkpoints of at most 32 x 32 work; smaller ones are upscaled, with reals of their size.

Options:
  --metric fd         the metric to compute; fd is the only one (default fd)
  --samples N         images per set, an integer in [10, 100000] (default 2000)
  --data SOURCE       real images: omit for the embedded Fashion-MNIST test split, 'fashion-mnist'
                      for Debian's full set, or a folder of images
${COMMON_OPTIONS_HELP.replace('(default: the recipe\'s psi)', '(default 1, no truncation)').replace(/^ {2}--scale N[^\n]*\n/m, '')}`;

export function metricsCommand(argv: string[]): Promise<number> {
  return runMetrics(argv, { compile: compileCached, readText: readModelText }, metricsHelp);
}
