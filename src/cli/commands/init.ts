// `sganc init`: writes freshly initialised parameters of a model to a safetensors file.

import { initParams } from '../../params/init.ts';
import { SafetensorsError, writeSafetensors } from '../../runtime/safetensors.ts';
import { loadModelOrExit } from '../load.ts';
import { reportUsageError } from '../usage.ts';
import { attachNegativeValues, parseCommandLine } from '../../runtime/train/options.ts';

export const initHelp = `Usage: sganc init FILE --out PARAMS [--seed N]

Initialises every parameter of the model in FILE (normal weights with the equalized-learning-rate
std, constant biases, noise strengths and learned constant) and writes them to a safetensors file.

Options:
  --out PARAMS    safetensors file to write
  --seed N        seed of the initial draw, a non-negative integer (default 0); the same seed gives
                  the same parameters
  -h, --help      print this help`;

/** Entry point of `sganc init`; returns the exit code. */
export async function initCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: attachNegativeValues(argv),
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        seed: { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${initHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) return usageError(`expected one model file, got ${positionals.length} arguments`);
  if (values.out === undefined) return usageError('missing required option --out');
  const seed = Number(values.seed);
  if (values.seed.trim() === '' || !Number.isSafeInteger(seed) || seed < 0) {
    return usageError(`--seed must be a non-negative integer, got '${values.seed}'`);
  }

  const spec = loadModelOrExit(positionals[0]!);
  const params = initParams(spec, seed);
  try {
    writeSafetensors(values.out, params, { model: spec.name, seed: String(seed) });
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    process.stderr.write(`sganc init: error: ${error.message}\n`);
    return 1;
  }
  const count = spec.params.reduce((sum, p) => sum + p.shape.reduce((n, d) => n * d, 1), 0);
  process.stdout.write(`wrote ${spec.params.length} parameter tensors (${count} values) to ${values.out}\n`);
  return 0;
}

function usageError(message: string): number {
  return reportUsageError('init', message);
}
