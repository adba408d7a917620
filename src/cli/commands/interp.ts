// `sganc interp`: an animated GIF that walks from one seed's image to another's.

import { COMMON_OPTIONS_HELP, runInterp } from '../../runtime/sample/commands.ts';
import { compileCached, readModelText } from './train.ts';

export const interpHelp = `Usage: sganc interp RUN|CHECKPOINT --from S --to T [--frames 30] [--space z|w] --out FILE.gif [options]

Writes an animated GIF that interpolates from the image of seed S to that of seed T. In w the walk
is linear between the two mapped latents; in z it is spherical (slerp), the usual path for Gaussian
latents. Every frame uses the same noise maps (those of seed S unless --noise-seed is given).

Options:
  --from S            seed of the first frame
  --to T              seed of the last frame
  --frames N          number of frames, an integer in [2, 1000] (default 30)
  --space SPACE       z or w (default w)
  --frame-ms N        display time of each frame in milliseconds, an integer in [10, 10000]
                      (default 80)
  --out FILE          GIF to write
${COMMON_OPTIONS_HELP}
With interp, --noise random means the same as const: one set of noise maps for all frames.`;

export function interpCommand(argv: string[]): Promise<number> {
  return runInterp(argv, { compile: compileCached, readText: readModelText }, interpHelp);
}
