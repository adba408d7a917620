// `sganc compile`: writes the generated trainer and sampler of a model into a folder.

import { parseArgs } from 'node:util';
import { basename, join, relative } from 'node:path';

import { compileModel } from '../../emit/index.ts';
import { concreteTargetName, TargetError } from '../../runtime/train/targets.ts';
import { readModelText } from './train.ts';
import { loadModelOrExit } from '../load.ts';

export const compileHelp = `Usage: sganc compile FILE [--target NAME] [--out DIR]

Compiles the model in FILE and writes into DIR: train.ts (the trainer, with the model's training
recipe as an editable object), generate.ts (a sampler for checkpoints), model.json (the checked
model), model.sgan (a copy of FILE), manifest.json (the programs of each training phase with their
primitive op counts) and package.json. Run the trainer with: npx tsx DIR/train.ts --help.

Options:
  --target NAME   target of the programs: auto (default, the fastest available) or ref;
                  cpu, wgsl and webgl are not available yet
  --out DIR       output folder (default out/<model name>)
  -h, --help      print this help`;

/** Entry point of `sganc compile`; returns the exit code. */
export async function compileCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        target: { type: 'string', default: 'auto' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${compileHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) return usageError(`expected one model file, got ${positionals.length} arguments`);

  let target: string;
  try {
    target = concreteTargetName(values.target);
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    process.stderr.write(`sganc compile: error: ${error.message}\n`);
    return 2;
  }
  const file = positionals[0]!;
  const spec = loadModelOrExit(file);
  const outDir = values.out ?? join('out', spec.name);
  const result = compileModel({ spec, modelText: readModelText(file), target, outDir, modelFile: file });

  const shown = relative(process.cwd(), result.outDir) || '.';
  process.stdout.write(`compiled ${spec.name} (${basename(file)}) for target ${target} into ${shown}/\n`);
  process.stdout.write(`  ${result.manifest.programs.length} programs in manifest.json\n`);
  process.stdout.write(`train with: npx tsx ${join(shown, 'train.ts')} --help\n`);
  return 0;
}

function usageError(message: string): number {
  process.stderr.write(`sganc compile: ${message}\n\n${compileHelp}\n`);
  return 2;
}
