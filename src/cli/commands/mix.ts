// `sganc mix`: the style-mixing figure of the StyleGAN paper from a run's checkpoint.

import { COMMON_OPTIONS_HELP, runMix } from '../../runtime/sample/commands.ts';
import { compileCached, readModelText } from './train.ts';

export const mixHelp = `Usage: sganc mix RUN|CHECKPOINT --rows LIST --cols LIST --styles GROUP --out FILE.png [options]

Writes a style-mixing grid: the images of the --cols seeds along the top, those of the --rows seeds
down the left, and in cell (row, col) the row's image with the style layers of --styles taken from
the column's w. The row keeps all other styles and its noise.

Options:
  --rows LIST         seeds of the row sources, such as 1,2,3 or 0-4
  --cols LIST         seeds of the column sources, such as 10-13
  --styles GROUP      style layers taken from the columns: coarse (4x4 to 8x8), middle (16x16 to
                      32x32), fine (64x64 and up), or a range A-B of style layer indices (0 is the
                      coarsest); a group without layers in the model is an error
  --out FILE          PNG to write
${COMMON_OPTIONS_HELP}`;

export function mixCommand(argv: string[]): Promise<number> {
  return runMix(argv, { compile: compileCached, readText: readModelText }, mixHelp);
}
