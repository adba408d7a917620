// `sganc truncation`: the truncation-trick figure, one column per psi.

import { COMMON_OPTIONS_HELP, runTruncation } from '../../runtime/sample/commands.ts';
import { compileCached, readModelText } from './train.ts';

export const truncationHelp = `Usage: sganc truncation RUN|CHECKPOINT [--seeds 0-5] [--psi LIST] --out FILE.png [options]

Writes a grid with one row per seed and one column per psi: each image uses w_avg + psi * (w - w_avg)
on the style layers below --cutoff. psi 1 is the untruncated image, 0 the average image, and
negative psi the "opposite" of the image.

Options:
  --seeds LIST        seeds of the rows, such as 0-5 or 3,7 (default 0-5)
  --psi LIST          comma-separated psi values of the columns (default 1,0.7,0.5,0,-0.5,-1)
  --out FILE          PNG to write
${COMMON_OPTIONS_HELP.replace(/^ {2}--trunc PSI[^\n]*\n[^\n]*\n/, '')}`;

export function truncationCommand(argv: string[]): Promise<number> {
  return runTruncation(argv, { compile: compileCached, readText: readModelText }, truncationHelp);
}
