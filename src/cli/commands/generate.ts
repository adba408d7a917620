// `sganc generate`: a grid of images, or one PNG per seed, from a run's checkpoint.

import { COMMON_OPTIONS_HELP, runGenerate } from '../../runtime/sample/commands.ts';
import { compileCached, readModelText } from './train.ts';

export const generateHelp = `Usage: sganc generate RUN|CHECKPOINT [--seeds 0-15] (--out FILE.png | --outdir DIR) [options]

Generates images from a checkpoint (the newest in the run directory RUN, or the file CHECKPOINT) with
the generator's EMA weights. Image i's latent z is drawn from its seed, as in the training fakes
grids, so a seed always gives the same image.

Options:
  --seeds LIST        image seeds, such as 0-15 or 3,7,11 (default 0-15)
  --out FILE          PNG grid to write
  --outdir DIR        write one PNG per seed instead, named seed0000.png, seed0001.png, ...
  --cols N            images per grid row (default: a square grid)
${COMMON_OPTIONS_HELP}`;

export function generateCommand(argv: string[]): Promise<number> {
  return runGenerate(argv, { compile: compileCached, readText: readModelText }, generateHelp);
}
