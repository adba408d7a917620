// `sganc train`: compiles a model into the cache (or reuses an earlier compile of the same model text,
// compiler version and target) and runs exactly that generated trainer in this process.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { compileModel, compilerVersion, modelHash } from '../../emit/index.ts';
import type { ModelSpec } from '../../model/spec.ts';
import { parseTrainArgs, TRAIN_OPTIONS_HELP, UsageError } from '../../runtime/train/options.ts';
import { concreteTargetName, TargetError } from '../../runtime/train/targets.ts';
import { loadModelOrExit } from '../load.ts';
import { reportUsageError } from '../usage.ts';

export const trainHelp = `Usage: sganc train FILE [options]

Trains the model in FILE: compiles it (cached under .sganc-cache/ in the current folder), then runs
the generated trainer. Each tick prints a status line and writes the fakes grid and loss plot into
the run directory; checkpoints allow --resume, and Ctrl-C stops after a final checkpoint.

${TRAIN_OPTIONS_HELP}`;

/** Folder under the current directory that contains the compiled models, one subfolder per hash. */
export const CACHE_DIR = '.sganc-cache';

/** The entry point every generated train.ts exports. */
interface GeneratedTrainer {
  main(argv: readonly string[], program?: string): Promise<number>;
}

/** Entry point of `sganc train`; returns the exit code. */
export async function trainCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    // The default run length depends on the model, which is not loaded yet; 1 is a placeholder.
    parsed = parseTrainArgs(argv, 1);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageError(error.message);
  }
  if (parsed.help) {
    process.stdout.write(`${trainHelp}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) return usageError(`expected one model file, got ${parsed.positionals.length} arguments`);

  let target: string;
  try {
    target = await concreteTargetName(parsed.options.target);
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    return usageError(error.message);
  }
  const file = parsed.positionals[0]!;
  const spec = loadModelOrExit(file);
  const dir = compileCached(spec, readModelText(file), target, file);

  const trainer = (await import(pathToFileURL(join(dir, 'train.ts')).href)) as GeneratedTrainer;
  const rest = argv.filter((_, index) => index !== parsed.positionalIndices[0]);
  return trainer.main(rest, 'sganc train');
}

/**
 * Returns the folder of the compiled model. Compiles it first unless the cache already contains a
 * compile of the same model text, compiler version and target.
 */
export function compileCached(spec: ModelSpec, modelText: string, target: string, modelFile: string): string {
  const hash = modelHash(modelText, spec, compilerVersion(), target);
  const dir = resolve(CACHE_DIR, hash);
  const complete = ['train.ts', 'generate.ts', 'model.json', 'model.sgan', 'manifest.json', 'package.json'].every((name) =>
    existsSync(join(dir, name)),
  );
  if (!complete) compileModel({ spec, modelText, target, outDir: dir, modelFile });
  return dir;
}

/** Returns the text of a model file that loadModelOrExit has already read successfully. */
export function readModelText(path: string): string {
  return readFileSync(path, 'utf8');
}

function usageError(message: string): number {
  return reportUsageError('train', message);
}
