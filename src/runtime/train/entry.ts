// Entry points of the generated `train.ts` and `generate.ts`: argument parsing, loading the compiled
// model next to the generated file, and turning known errors into messages and exit codes.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { ModelSpec, TrainRecipe } from '../../model/spec.ts';
import { buildGenerator } from '../../layers/programs.ts';
import { CheckpointError, findLatestCheckpoint, loadCheckpoint } from '../checkpoint.ts';
import { writeImageGrid } from '../images.ts';
import { SafetensorsError } from '../safetensors.ts';
import { train } from '../trainer.ts';
import { attachNegativeValues, defaultKimg, InputError, parseCommandLine, parseTrainArgs, TRAIN_OPTIONS_HELP, usageHint, UsageError } from './options.ts';
import { latentsForSeeds, sampleImages, truncationVector } from './sample.ts';
import { generatorParamNames, styleLayersAtStage } from './semantics.ts';
import type { Tensor } from '../tensor.ts';
import { loadTarget, TargetError } from './targets.ts';

/** Facts about the compiled model that a generated file passes to the runtime. */
export interface CompiledModel {
  /** Folder holding model.json and model.sgan (the folder of the generated files). */
  dir: string;
  modelHash: string;
  /** Target the model was compiled for; the default of `--target`. */
  target: string;
  recipe: TrainRecipe;
}

/** Reads the ModelSpec that `sganc compile` wrote next to the generated files. */
export function readCompiledSpec(dir: string): ModelSpec {
  const path = join(dir, 'model.json');
  if (!existsSync(path)) throw new InputError(`${path} not found; run sganc compile again`);
  return JSON.parse(readFileSync(path, 'utf8')) as ModelSpec;
}

/**
 * Runs training with command-line arguments; returns the process exit code. `program` names the
 * program in error messages: the generated file's name, or 'sganc train' when the CLI runs it.
 */
export async function runGeneratedTrainer(compiled: CompiledModel, argv: readonly string[], program = 'train.ts'): Promise<number> {
  return reportErrors(async () => {
    const spec = readCompiledSpec(compiled.dir);
    const parsed = parseTrainArgs(argv, defaultKimg(compiled.recipe, spec.resolution));
    if (parsed.help) {
      process.stdout.write(`Usage: train.ts [options]\nTrains ${spec.name} with the recipe in train.ts.\n\n${TRAIN_OPTIONS_HELP}\n`);
      return 0;
    }
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    if (!parsed.given.has('target')) parsed.options.target = compiled.target;
    const result = await train({
      spec,
      recipe: compiled.recipe,
      modelText: readFileSync(join(compiled.dir, 'model.sgan'), 'utf8'),
      modelHash: compiled.modelHash,
      options: parsed.options,
      given: parsed.given,
      program,
    });
    return result.exitCode;
  }, program);
}

export const SAMPLER_HELP = `Usage: generate.ts (--run DIR | --checkpoint FILE) [options]
Writes a grid of generated images from a training checkpoint.

Options:
  --run DIR           run directory; its newest checkpoint is used
  --checkpoint FILE   a checkpoint-*.safetensors file
  --seeds LIST        image seeds, e.g. 0-15 or 3,7,11 (default 0-15); image i's latent z is drawn
                      from its seed, as in the trainer's fakes grids
  --psi X             truncation psi, 1 for none (default: the recipe's)
  --cutoff N          truncate only the first N style layers (default: the recipe's)
  --noise-seed N      key of the per-pixel noise, an integer below 2^24 (default 0)
  --mix-seeds LIST    style mixing: image i takes the styles from --crossover on from the latent
                      of mix seed i (one seed, or as many as --seeds)
  --crossover N       first style layer that takes the mix seed's w (default: half of the layers
                      at the checkpoint's resolution, so coarse styles come from --seeds)
  --raw               use the trained weights instead of their EMA
  --cols N            images per grid row (default: square grid)
  --scale N           integer pixel upscale of each image (default 1)
  --out FILE          PNG to write (default samples.png)
  --target NAME       auto, cpu, wgsl, webgl or ref (default: the compiled target)
  --help              print this help`;

/** Runs the sampler with command-line arguments; returns the process exit code. `program` names it in errors. */
export async function runGeneratedSampler(compiled: CompiledModel, argv: readonly string[], program = 'generate.ts'): Promise<number> {
  return reportErrors(async () => {
    const values = parseSamplerArgs(argv);
    if (values.help === true) {
      process.stdout.write(SAMPLER_HELP + '\n');
      return 0;
    }
    const spec = readCompiledSpec(compiled.dir);
    const checkpointPath = checkpointFromArgs(values.run, values.checkpoint);
    const checkpoint = loadCheckpoint(checkpointPath, spec.params.map((p) => p.name));
    const seeds = parseSeeds(values.seeds ?? '0-15');
    const psi = optionalNumber('--psi', values.psi) ?? compiled.recipe.truncation.psi;
    const cutoff = optionalNumber('--cutoff', values.cutoff) ?? compiled.recipe.truncation.cutoff;
    const noiseKey = optionalNumber('--noise-seed', values['noise-seed']) ?? 0;
    if (!Number.isInteger(noiseKey) || noiseKey < 0 || noiseKey >= 2 ** 24) {
      throw new UsageError(`--noise-seed must be an integer in [0, 2^24), got ${noiseKey}`);
    }
    const scale = optionalNumber('--scale', values.scale) ?? 1;
    const cols = optionalNumber('--cols', values.cols);

    const { res, alpha } = checkpoint.state;
    const fading = alpha < 1;
    const mixing = styleMixing(spec, res, seeds.length, values['mix-seeds'], optionalNumber('--crossover', values.crossover));
    const target = await loadTarget(values.target ?? compiled.target);
    const program = target.compile(buildGenerator(spec, { stage: res, batch: seeds.length, fading, noise: 'random' }), `${spec.name}.generate`);
    const params = values.raw === true ? checkpoint.tensors.params : checkpoint.tensors.ema;
    for (const name of generatorParamNames(spec)) {
      if (params[name] === undefined) throw new CheckpointError(`${checkpointPath}: missing generator tensor '${name}'`);
    }
    const images = await sampleImages(program, {
      spec,
      params,
      wAvg: checkpoint.tensors.wAvg,
      z: latentsForSeeds(seeds, spec.zDim),
      ...mixing,
      trunc: truncationVector(spec.styleLayers.length, psi, cutoff),
      noiseKey,
      alpha,
    });
    const out = values.out ?? 'samples.png';
    await writeImageGrid(out, images, { scale, ...(cols === undefined ? {} : { cols }) });
    process.stdout.write(`wrote ${seeds.length} images at ${res}x${res} (psi ${psi}, cutoff ${cutoff}) to ${out}\n`);
    return 0;
  }, program);
}

/** Returns the second latents and crossover for `--mix-seeds`, or nothing without that option. */
function styleMixing(
  spec: ModelSpec,
  res: number,
  count: number,
  mixSeedsText: string | undefined,
  crossover: number | undefined,
): { z2?: Tensor; crossover?: number } {
  if (mixSeedsText === undefined) {
    if (crossover !== undefined) throw new UsageError('--crossover needs --mix-seeds');
    return {};
  }
  let mixSeeds = parseSeeds(mixSeedsText);
  if (mixSeeds.length === 1) mixSeeds = new Array<number>(count).fill(mixSeeds[0]!);
  if (mixSeeds.length !== count) throw new UsageError(`--mix-seeds: expected 1 or ${count} seeds (as many as --seeds), got ${mixSeeds.length}`);
  const layers = styleLayersAtStage(spec, res);
  const first = crossover ?? Math.floor(layers / 2);
  if (!Number.isInteger(first) || first < 0 || first > layers) {
    throw new UsageError(`--crossover must be an integer in [0, ${layers}] at resolution ${res}, got ${first}`);
  }
  return { z2: latentsForSeeds(mixSeeds, spec.zDim), crossover: first };
}

function parseSamplerArgs(argv: readonly string[]) {
  return parseCommandLine({
    args: attachNegativeValues(argv),
    strict: true,
    allowPositionals: false,
    options: {
      run: { type: 'string' },
      checkpoint: { type: 'string' },
      seeds: { type: 'string' },
      psi: { type: 'string' },
      cutoff: { type: 'string' },
      'noise-seed': { type: 'string' },
      'mix-seeds': { type: 'string' },
      crossover: { type: 'string' },
      raw: { type: 'boolean' },
      cols: { type: 'string' },
      scale: { type: 'string' },
      out: { type: 'string' },
      target: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

function checkpointFromArgs(run: string | undefined, file: string | undefined): string {
  if ((run === undefined) === (file === undefined)) throw new UsageError('give exactly one of --run DIR and --checkpoint FILE');
  if (file !== undefined) return file;
  if (!existsSync(run!) || !statSync(run!).isDirectory()) throw new InputError(`--run ${run}: directory not found`);
  const latest = findLatestCheckpoint(run!);
  if (latest === undefined) throw new InputError(`--run ${run}: no checkpoint-*.safetensors in that directory`);
  return latest;
}

/** Parses "0-15", "3,7,11" or a mix such as "0-3,9" into a list of seeds; `flag` names the option in errors. */
export function parseSeeds(text: string, flag = '--seeds'): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',')) {
    const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
    const single = /^\s*(\d+)\s*$/.exec(part);
    if (range !== null) {
      const first = Number(range[1]);
      const last = Number(range[2]);
      if (last < first) throw new UsageError(`${flag}: range '${part}' ends before it starts`);
      for (let s = first; s <= last; s++) seeds.push(s);
    } else if (single !== null) {
      seeds.push(Number(single[1]));
    } else {
      throw new UsageError(`${flag}: invalid entry '${part}'; expected N or N-M`);
    }
  }
  if (seeds.length === 0 || seeds.length > 1024) throw new UsageError(`${flag}: expected 1 to 1024 seeds, got ${seeds.length}`);
  return seeds;
}

function optionalNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} must be a number, got '${text}'`);
  return value;
}

/**
 * Runs `body` and maps expected failures to messages, prefixed with `program` when given: bad usage
 * and unknown targets exit 2, with a hint to run --help; missing or bad input files, checkpoints
 * and data exit 1. Anything else is a bug and propagates with its stack.
 */
export async function reportErrors(body: () => Promise<number>, program?: string): Promise<number> {
  const prefix = program === undefined ? 'error:' : `${program}: error:`;
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || error instanceof TargetError) {
      const hint = program === undefined ? '' : `${usageHint(program)}\n`;
      process.stderr.write(`${prefix} ${error.message}\n${hint}`);
      return 2;
    }
    const badInput = error instanceof InputError || error instanceof CheckpointError || error instanceof SafetensorsError;
    if (badInput || (error instanceof Error && error.name === 'DataError')) {
      process.stderr.write(`${prefix} ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
