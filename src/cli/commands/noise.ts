// `sganc noise`: the effect of per-pixel noise on one image.

import { COMMON_OPTIONS_HELP, runNoise } from '../../runtime/sample/commands.ts';
import { compileCached, readModelText } from './train.ts';

export const noiseHelp = `Usage: sganc noise RUN|CHECKPOINT --seed S [--samples 8] --out FILE.png [options]

Generates one latent (seed S) with --samples different noise maps and writes them as a grid, with
one more image at the end: the per-pixel standard deviation over the samples, black for 0 and white
for the largest deviation (printed in the [-1, 1] pixel range).

Options:
  --seed S            seed of the latent z (default 0)
  --samples N         number of noise draws, an integer in [2, 1024] (default 8); sample k uses the
                      noise maps of noise seed k
  --cols N            images per grid row (default: a square grid)
  --out FILE          PNG to write
${COMMON_OPTIONS_HELP}`;

export function noiseCommand(argv: string[]): Promise<number> {
  return runNoise(argv, { compile: compileCached, readText: readModelText }, noiseHelp);
}
