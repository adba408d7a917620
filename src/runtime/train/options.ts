// Command-line options of a training run, shared by `sganc train` and a generated `train.ts`, so both
// accept the same flags with the same meaning.

import { parseArgs, type ParseArgsConfig } from 'node:util';

import type { TrainRecipe } from '../../model/spec.ts';

export interface TrainOptions {
  /** Data set: undefined for the embedded Fashion-MNIST test split, 'fashion-mnist', or a folder of images. */
  data: string | undefined;
  pad: boolean;
  upscale: boolean;
  /** 'auto' or a target name. */
  target: string;
  /** Threads of the cpu target, the caller included; undefined means SGAN_CPU_THREADS, else one per core. */
  threads?: number;
  /** Length of the whole run in kimg, counted from the start of training (not from a resume). */
  kimg: number;
  tickKimg: number;
  /** Run directory; undefined means `runs/<model name>`, or the resumed run's directory. */
  out: string | undefined;
  /** Run directory to continue from its newest checkpoint. */
  resume: string | undefined;
  seed: number;
  snapshotTicks: number;
  /** Newest checkpoints kept in the run directory; 0 keeps all. Undefined means DEFAULT_KEEP_CHECKPOINTS. */
  keepCheckpoints?: number;
  /** Ticks between Frechet distance measurements written to log.jsonl; 0 or undefined turns them off. */
  metricsTicks?: number;
  /** Real and generated images per Frechet distance measurement. Undefined means DEFAULT_METRICS_SAMPLES. */
  metricsSamples?: number;
}

/** The options that must stay the same when a run is resumed, because they change its results. */
export const RUN_DEFINING_OPTIONS = ['data', 'pad', 'upscale', 'seed'] as const;

/** Kimg per tick when `--tick-kimg` is not given; see docs/benchmarks.md for what that costs in time. */
export const DEFAULT_TICK_KIMG = 0.5;

/** Checkpoints kept when `--keep-checkpoints` is not given; older ones are deleted as new ones land. */
export const DEFAULT_KEEP_CHECKPOINTS = 5;

/** Images per set of the trainer's Frechet distance when `--metrics-samples` is not given. */
export const DEFAULT_METRICS_SAMPLES = 1000;

/** Bad command-line input; the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file or directory named on the command line that is missing, unreadable or of the wrong kind; exit status 1. */
export class InputError extends Error {
  override name = 'InputError';
}

export const TRAIN_OPTIONS_HELP = `Options:
  --data SOURCE         images to train on: omit for the embedded Fashion-MNIST test split (10,000
                        images), 'fashion-mnist' for all 70,000 from Debian's dataset-fashion-mnist,
                        or a folder of PNG/JPEG files
  --pad                 pad non-square images to a square instead of centre-cropping them
  --upscale             allow images smaller than the model resolution (they are upscaled)
  --target NAME         where the programs run: auto (default: wgsl on a hardware GPU, else
                        cpu), cpu (WebAssembly SIMD on worker threads), wgsl (WebGPU), webgl
                        (gpu.js) or ref (the plain reference executor)
  --threads N           threads of the cpu target, an integer >= 1 (default: SGAN_CPU_THREADS,
                        else one per core)
  --kimg N              length of the whole run in thousands of real images shown to the
                        discriminator, counted from the start (default: through one stable
                        phase at the final resolution)
  --tick-kimg N         thousands of images per tick; each tick prints a status line and
                        writes the fakes grid and loss plot (default ${DEFAULT_TICK_KIMG})
  --snapshot-ticks N    write a checkpoint every N ticks (default 1); one is always written at the end
  --keep-checkpoints N  keep the N newest checkpoints and delete older ones (default
                        ${DEFAULT_KEEP_CHECKPOINTS}); 0 keeps all
  --metrics-ticks N     every N ticks and at the end, compute the Frechet distance of the EMA
                        generator's images to the reals (see sganc metrics) and write it to
                        log.jsonl as fd; 1-channel models up to 32 x 32 only (default 0: off)
  --metrics-samples N   real and generated images per measurement (default ${DEFAULT_METRICS_SAMPLES})
  --out DIR             run directory (default runs/<model name>)
  --resume DIR          continue the run in DIR from its newest checkpoint
  --seed N              seed of every random draw of the run, an integer (default 0)
  --help                print this help`;

export interface ParsedTrainArgs {
  options: TrainOptions;
  /** Options that appeared on the command line, by their TrainOptions name. */
  given: Set<keyof TrainOptions>;
  positionals: string[];
  /** Index in argv of each positional, so a caller can drop one and pass the rest on. */
  positionalIndices: number[];
  help: boolean;
}

/**
 * Parses training flags; `defaultKimgValue` is the run length when `--kimg` is absent (see
 * {@link defaultKimg}). Throws UsageError on bad input.
 */
export function parseTrainArgs(argv: readonly string[], defaultKimgValue: number): ParsedTrainArgs {
  const parsed = parseCommandLine({
    args: attachNegativeValues(argv),
    allowPositionals: true,
    strict: true,
    tokens: true,
    options: {
      data: { type: 'string' },
      pad: { type: 'boolean' },
      upscale: { type: 'boolean' },
      target: { type: 'string' },
      threads: { type: 'string' },
      kimg: { type: 'string' },
      'tick-kimg': { type: 'string' },
      'snapshot-ticks': { type: 'string' },
      'keep-checkpoints': { type: 'string' },
      'metrics-ticks': { type: 'string' },
      'metrics-samples': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const values = parsed.values;
  const given = new Set<keyof TrainOptions>();
  const mark = <K extends keyof TrainOptions>(key: K, present: boolean): void => {
    if (present) given.add(key);
  };
  mark('data', values.data !== undefined);
  mark('pad', values.pad !== undefined);
  mark('upscale', values.upscale !== undefined);
  mark('target', values.target !== undefined);
  mark('threads', values.threads !== undefined);
  mark('kimg', values.kimg !== undefined);
  mark('tickKimg', values['tick-kimg'] !== undefined);
  mark('snapshotTicks', values['snapshot-ticks'] !== undefined);
  mark('keepCheckpoints', values['keep-checkpoints'] !== undefined);
  mark('metricsTicks', values['metrics-ticks'] !== undefined);
  mark('metricsSamples', values['metrics-samples'] !== undefined);
  mark('out', values.out !== undefined);
  mark('resume', values.resume !== undefined);
  mark('seed', values.seed !== undefined);

  const data = values.data === 'embedded' ? undefined : values.data;
  const options: TrainOptions = {
    data,
    pad: values.pad ?? false,
    upscale: values.upscale ?? false,
    target: values.target ?? 'auto',
    threads: parseInteger('--threads', values.threads, 1),
    kimg: parsePositiveNumber('--kimg', values.kimg) ?? defaultKimgValue,
    tickKimg: parsePositiveNumber('--tick-kimg', values['tick-kimg']) ?? DEFAULT_TICK_KIMG,
    out: values.out,
    resume: values.resume,
    seed: parseInteger('--seed', values.seed, 0) ?? 0,
    snapshotTicks: parseInteger('--snapshot-ticks', values['snapshot-ticks'], 1) ?? 1,
    keepCheckpoints: parseInteger('--keep-checkpoints', values['keep-checkpoints'], 0) ?? DEFAULT_KEEP_CHECKPOINTS,
    metricsTicks: parseInteger('--metrics-ticks', values['metrics-ticks'], 0) ?? 0,
    metricsSamples: parseInteger('--metrics-samples', values['metrics-samples'], 10) ?? DEFAULT_METRICS_SAMPLES,
  };
  const positionalIndices = parsed.tokens.filter((token) => token.kind === 'positional').map((token) => token.index);
  return { options, given, positionals: parsed.positionals, positionalIndices, help: values.help ?? false };
}

/**
 * Runs Node's parseArgs and throws its errors as a UsageError. For a misspelt option, the message
 * names the closest known one.
 */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(describeParseError(error, Object.keys(config.options ?? {})));
  }
}

/**
 * Returns the known name (of an option or a command) that `name` most likely misspells: the only
 * one it is a prefix of, else the nearest within an edit distance of 2 (1 for names of up to 4 letters).
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const extensions = known.filter((candidate) => candidate.startsWith(name));
  if (name.length > 0 && extensions.length === 1) return extensions[0];
  const limit = name.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Returns the edit distance between two strings: the fewest insertions, deletions, substitutions
 * and swaps of neighbouring letters (the optimal string alignment distance).
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * Returns a short message for an error of Node's parseArgs: its unknown-option and missing-value
 * texts explain shell quoting at length, which hides the option the user mistyped.
 */
export function describeParseError(error: unknown, known: readonly string[] = []): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown !== null) {
    const option = unknown[1]!;
    const suggestion = option.startsWith('--') ? closestName(option.slice(2), known) : undefined;
    return `unknown option '${option}'${suggestion === undefined ? '' : `; did you mean '--${suggestion}'?`}`;
  }
  const ambiguous = /^Option '([^' ]+)[^']*' argument is ambiguous/.exec(message);
  if (ambiguous !== null) return `option '${ambiguous[1]}' needs a value; write ${ambiguous[1]}=VALUE for a value that starts with '-'`;
  const missing = /^Option '([^' ]+)[^']*' argument missing/.exec(message);
  if (missing !== null) return `option '${missing[1]}' needs a value`;
  const positional = /^Unexpected argument '([^']+)'/.exec(message);
  if (positional !== null) return `unexpected argument '${positional[1]}'`;
  return message;
}

/**
 * Returns the hint line printed after a usage error: the command that lists the options of
 * `program`, such as `sganc train`, or of a generated file such as `train.ts`, which runs through tsx.
 */
export function usageHint(program: string): string {
  const command = program.endsWith('.ts') ? `npx tsx ${program}` : program;
  return `Run '${command} --help' for the options.`;
}

/**
 * Returns argv with `--flag -1` written as `--flag=-1`, so a negative value reaches the range check
 * with its own message instead of being taken for an option.
 */
export function attachNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Returns the kimg at which the final resolution has finished one stable phase. */
export function defaultKimg(recipe: TrainRecipe, finalRes: number): number {
  const { startRes, stableKimg, fadeKimg } = recipe.grow;
  let kimg = stableKimg;
  for (let res = startRes * 2; res <= finalRes; res *= 2) kimg += fadeKimg + stableKimg;
  return kimg;
}

function parsePositiveNumber(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} must be a positive number, got '${text}'`);
  }
  return value;
}

function parseInteger(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} must be an integer >= ${min}, got '${text}'`);
  }
  return value;
}
