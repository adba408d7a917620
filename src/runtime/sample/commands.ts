// The sampling commands (generate, mix, noise, interp, truncation, metrics): option parsing shared by
// all six and one function per command. Each runs the compiled generator of a checkpoint on
// hand-built inputs.


import { loadDataset } from '../data.ts';
import { writeImageGrid } from '../images.ts';
import { Rng } from '../rng.ts';
import { tensor, type Tensor, type TensorMap } from '../tensor.ts';
import { reportErrors, parseSeeds } from '../train/entry.ts';
import { attachNegativeValues, parseCommandLine, UsageError } from '../train/options.ts';
import { latentsForSeeds, truncationVector } from '../train/sample.ts';
import { CLASSIFIER_RES, FEATURE_DIM } from './classifier.ts';
import { FeatureExtractor, featureDistance, realOrder } from './fd.ts';
import { mixForRange, noiseForSeeds, parseNumberList, parseStyleRange, repeatRow, slerp, uniformMix } from './inputs.ts';
import { concatImages, sliceImages, stddevImage, writeGif, writeImageFiles } from './output.ts';
import { openSession, type NoiseChoice, type SamplingSession, type SessionOptions } from './session.ts';

/** Largest batch one generator run gets; longer lists of images run in chunks of this size. */
export const MAX_BATCH = 16;

/** Help lines of the options every sampling command accepts. */
export const COMMON_OPTIONS_HELP = `  --trunc PSI         truncation psi: style layers below --cutoff move to w_avg + PSI * (w - w_avg);
                      1 changes nothing (default: the recipe's psi)
  --cutoff N          number of style layers, counted from the coarsest, that --trunc applies to
                      (default: the recipe's cutoff)
  --noise MODE        per-pixel noise: random (each image's own maps, drawn from its seed), const
                      (the maps of --noise-seed for every image) or none (default random)
  --noise-seed N      seed of the noise maps with --noise const, an integer >= 0 (default 0)
  --scale N           integer pixel upscale of each image (default: 1, or enough for 64 pixels)
  --model FILE        .sgan model of the checkpoint (default: model.sgan in the checkpoint's folder)
  --raw               use the trained weights instead of their EMA
  --target NAME       where the generator runs: auto (default: wgsl on a hardware GPU, else cpu),
                      cpu, wgsl, webgl or ref
  --threads N         threads of the cpu target, an integer >= 1 (default: SGAN_CPU_THREADS, else
                      one per core)
  -h, --help          print this help`;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

const COMMON_OPTIONS: OptionSpec = {
  trunc: { type: 'string' },
  cutoff: { type: 'string' },
  noise: { type: 'string' },
  'noise-seed': { type: 'string' },
  scale: { type: 'string' },
  model: { type: 'string' },
  raw: { type: 'boolean' },
  target: { type: 'string' },
  threads: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Functions from the CLI that compile a model into the cache and read its text. */
export type CompileHooks = Pick<SessionOptions, 'compile' | 'readText'>;

/** Parsed command line of one sampling command. */
interface Parsed {
  source: string;
  values: Record<string, string | boolean | undefined>;
}

/** The options every figure reads, with defaults from the session's recipe and resolution. */
interface Common {
  psi: number;
  cutoff: number;
  noise: NoiseChoice;
  noiseSeed: number;
  scale: number;
}

function parse(argv: readonly string[], extra: OptionSpec): Parsed | 'help' {
  const parsed = parseCommandLine({ args: attachNegativeValues(argv), strict: true, allowPositionals: true, options: { ...COMMON_OPTIONS, ...extra } });
  if (parsed.values['help'] === true) return 'help';
  if (parsed.positionals.length !== 1) {
    throw new UsageError(`expected one run directory or checkpoint file, got ${parsed.positionals.length} arguments`);
  }
  return { source: parsed.positionals[0]!, values: parsed.values as Parsed['values'] };
}

function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

function requiredOption(parsed: Parsed, name: string): string {
  const value = stringOption(parsed, name);
  if (value === undefined) throw new UsageError(`missing required option --${name}`);
  return value;
}

function numberOption(parsed: Parsed, name: string): number | undefined {
  const text = stringOption(parsed, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got '${text}'`);
  return value;
}

function integerOption(parsed: Parsed, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = numberOption(parsed, name);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    const bound = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new UsageError(`--${name} must be an integer ${bound}, got '${stringOption(parsed, name)}'`);
  }
  return value;
}

async function open(parsed: Parsed, hooks: CompileHooks): Promise<SamplingSession> {
  const model = stringOption(parsed, 'model');
  const threads = integerOption(parsed, 'threads', 1);
  return openSession({
    source: parsed.source,
    ...(model === undefined ? {} : { model }),
    raw: parsed.values['raw'] === true,
    target: stringOption(parsed, 'target') ?? 'auto',
    ...(threads === undefined ? {} : { threads }),
    ...hooks,
  });
}

function commonOptions(parsed: Parsed, session: SamplingSession): Common {
  const recipe = session.compiled.recipe.truncation;
  const noise = stringOption(parsed, 'noise') ?? 'random';
  if (noise !== 'random' && noise !== 'const' && noise !== 'none') {
    throw new UsageError(`--noise must be random, const or none, got '${noise}'`);
  }
  return {
    psi: numberOption(parsed, 'trunc') ?? recipe.psi,
    cutoff: integerOption(parsed, 'cutoff', 0) ?? recipe.cutoff,
    noise,
    noiseSeed: integerOption(parsed, 'noise-seed', 0) ?? 0,
    scale: integerOption(parsed, 'scale', 1) ?? Math.max(1, Math.floor(64 / session.resolution)),
  };
}

/** Returns the noise maps of the images whose own seeds are `seeds`, or undefined for no noise. */
function noiseFor(session: SamplingSession, common: Common, seeds: readonly number[]): TensorMap | undefined {
  switch (common.noise) {
    case 'none':
      return undefined;
    case 'const':
      return noiseForSeeds(session.noiseLayers(), seeds.map(() => common.noiseSeed));
    case 'random':
      return noiseForSeeds(session.noiseLayers(), seeds);
  }
}

/**
 * Runs the generator on N images in chunks of at most MAX_BATCH; a short last chunk is padded with
 * copies of its first image, because every generator image depends only on its own inputs.
 */
export async function generateChunked(
  session: SamplingSession,
  inputs: { z1: Tensor; z2?: Tensor; mix?: Tensor; trunc: Tensor; noise?: TensorMap },
): Promise<Tensor> {
  const count = inputs.z1.shape[0]!;
  const batch = Math.min(count, MAX_BATCH);
  const chunks: Tensor[] = [];
  for (let first = 0; first < count; first += batch) {
    const rows = Array.from({ length: batch }, (_, i) => Math.min(first + i, count - 1));
    const pick = (t: Tensor): Tensor => gatherRows(t, rows);
    const images = await session.generate({
      z1: pick(inputs.z1),
      ...(inputs.z2 === undefined ? {} : { z2: pick(inputs.z2) }),
      ...(inputs.mix === undefined ? {} : { mix: inputs.mix }),
      trunc: inputs.trunc,
      ...(inputs.noise === undefined ? {} : { noise: Object.fromEntries(Object.entries(inputs.noise).map(([k, v]) => [k, pick(v)])) }),
    });
    chunks.push(sliceImages(images, 0, Math.min(batch, count - first)));
  }
  return concatImages(chunks);
}

function gatherRows(source: Tensor, rows: readonly number[]): Tensor {
  const size = source.data.length / source.shape[0]!;
  const out = tensor([rows.length, ...source.shape.slice(1)]);
  rows.forEach((row, i) => out.data.set(source.data.subarray(row * size, (row + 1) * size), i * size));
  return out;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function describeTruncation(common: Common): string {
  return common.psi === 1 ? 'no truncation' : `psi ${common.psi} on style layers below ${common.cutoff}`;
}

/** `generate`: a grid of the images of --seeds, or one PNG per seed with --outdir. */
export function runGenerate(argv: readonly string[], hooks: CompileHooks, help: string): Promise<number> {
  return reportErrors(async () => {
    const parsed = parse(argv, { seeds: { type: 'string' }, outdir: { type: 'string' }, cols: { type: 'string' } });
    if (parsed === 'help') return printHelp(help);
    const seeds = parseSeeds(stringOption(parsed, 'seeds') ?? '0-15');
    const out = stringOption(parsed, 'out');
    const outdir = stringOption(parsed, 'outdir');
    if ((out === undefined) === (outdir === undefined)) throw new UsageError('give exactly one of --out FILE.png and --outdir DIR');
    const cols = integerOption(parsed, 'cols', 1);
    const session = await open(parsed, hooks);
    const common = commonOptions(parsed, session);

    const images = await generateChunked(session, {
      z1: latentsForSeeds(seeds, session.spec.zDim),
      trunc: truncationVector(session.styleLayerCount, common.psi, common.cutoff),
      ...optionalNoise(noiseFor(session, common, seeds)),
    });
    const res = session.resolution;
    if (outdir !== undefined) {
      const names = seeds.map((seed) => `seed${String(seed).padStart(4, '0')}`);
      await writeImageFiles(outdir, images, names, common.scale);
      print(`wrote ${seeds.length} images at ${res}x${res} (${describeTruncation(common)}) to ${outdir}/`);
    } else {
      await writeImageGrid(out!, images, { scale: common.scale, ...(cols === undefined ? {} : { cols }) });
      print(`wrote ${seeds.length} images at ${res}x${res} (${describeTruncation(common)}) to ${out}`);
    }
    return 0;
  }, 'sganc generate');
}

/**
 * `mix`: the style-mixing figure. Row 0 shows the column sources after an empty corner, column 0 the
 * row sources. Cell (r, c) is row r's image with the style layers of --styles taken from column c's w.
 */
export function runMix(argv: readonly string[], hooks: CompileHooks, help: string): Promise<number> {
  return reportErrors(async () => {
    const parsed = parse(argv, { rows: { type: 'string' }, cols: { type: 'string' }, styles: { type: 'string' } });
    if (parsed === 'help') return printHelp(help);
    const rowSeeds = parseSeeds(requiredOption(parsed, 'rows'), '--rows');
    const colSeeds = parseSeeds(requiredOption(parsed, 'cols'), '--cols');
    const stylesText = requiredOption(parsed, 'styles');
    const out = requiredOption(parsed, 'out');
    const session = await open(parsed, hooks);
    const common = commonOptions(parsed, session);
    const range = parseStyleRange(stylesText, session.spec, session.resolution);
    const zDim = session.spec.zDim;
    const trunc = truncationVector(session.styleLayerCount, common.psi, common.cutoff);

    // Sources and mixed cells share the rows' noise, so a cell differs from its row only in styles.
    const sources = [...colSeeds, ...rowSeeds];
    const sourceImages = await generateChunked(session, {
      z1: latentsForSeeds(sources, zDim),
      trunc,
      ...optionalNoise(noiseFor(session, common, sources)),
    });
    const cellRows: number[] = [];
    const cellCols: number[] = [];
    for (const row of rowSeeds) {
      for (const col of colSeeds) {
        cellRows.push(row);
        cellCols.push(col);
      }
    }
    const cells = await generateChunked(session, {
      z1: latentsForSeeds(cellRows, zDim),
      z2: latentsForSeeds(cellCols, zDim),
      mix: mixForRange(session.styleLayerCount, range),
      trunc,
      ...optionalNoise(noiseFor(session, common, cellRows)),
    });

    // Layout: (rows + 1) x (cols + 1); a zero image (mid gray, the padding colour) fills the corner.
    const [, c, h, w] = cells.shape as [number, number, number, number];
    const pieces: Tensor[] = [tensor([1, c, h, w]), sliceImages(sourceImages, 0, colSeeds.length)];
    rowSeeds.forEach((_, r) => {
      pieces.push(sliceImages(sourceImages, colSeeds.length + r, 1));
      pieces.push(sliceImages(cells, r * colSeeds.length, colSeeds.length));
    });
    await writeImageGrid(out, concatImages(pieces), { cols: colSeeds.length + 1, scale: common.scale });
    print(
      `wrote a ${rowSeeds.length} x ${colSeeds.length} style-mixing grid at ${session.resolution}x${session.resolution} ` +
        `(--styles ${range.label}: style layers ${range.first}-${range.last} from the columns; ${describeTruncation(common)}) to ${out}`,
    );
    return 0;
  }, 'sganc mix');
}

/** `noise`: one w with --samples different noise maps, then their per-pixel standard deviation. */
export function runNoise(argv: readonly string[], hooks: CompileHooks, help: string): Promise<number> {
  return reportErrors(async () => {
    const parsed = parse(argv, { seed: { type: 'string' }, samples: { type: 'string' }, cols: { type: 'string' } });
    if (parsed === 'help') return printHelp(help);
    const seed = integerOption(parsed, 'seed', 0) ?? 0;
    const samples = integerOption(parsed, 'samples', 2, 1024) ?? 8;
    const cols = integerOption(parsed, 'cols', 1);
    const out = requiredOption(parsed, 'out');
    const session = await open(parsed, hooks);
    const common = commonOptions(parsed, session);
    if (common.noise !== 'random') throw new UsageError(`the noise figure varies the noise; --noise ${common.noise} is not allowed here`);

    // Sample k uses the noise maps of noise seed k.
    const noiseSeeds = Array.from({ length: samples }, (_, k) => k);
    const images = await generateChunked(session, {
      z1: repeatRow(latentsForSeeds([seed], session.spec.zDim), 0, samples),
      trunc: truncationVector(session.styleLayerCount, common.psi, common.cutoff),
      noise: noiseForSeeds(session.noiseLayers(), noiseSeeds),
    });
    const deviation = stddevImage(images);
    const grid = concatImages([images, deviation.image]);
    await writeImageGrid(out, grid, { scale: common.scale, ...(cols === undefined ? {} : { cols }) });
    print(
      `wrote ${samples} samples of seed ${seed} with different noise and their standard deviation ` +
        `(last image, white = ${deviation.max.toFixed(4)}) to ${out}`,
    );
    return 0;
  }, 'sganc noise');
}

/** `interp`: an animated GIF from --from to --to, spherical in z or linear in w. */
export function runInterp(argv: readonly string[], hooks: CompileHooks, help: string): Promise<number> {
  return reportErrors(async () => {
    const parsed = parse(argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      frames: { type: 'string' },
      space: { type: 'string' },
      'frame-ms': { type: 'string' },
    });
    if (parsed === 'help') return printHelp(help);
    const from = integerOption(parsed, 'from', 0);
    const to = integerOption(parsed, 'to', 0);
    if (from === undefined || to === undefined) throw new UsageError('missing required option --from or --to');
    const frames = integerOption(parsed, 'frames', 2, 1000) ?? 30;
    const space = stringOption(parsed, 'space') ?? 'w';
    if (space !== 'z' && space !== 'w') throw new UsageError(`--space must be z or w, got '${space}'`);
    const delayMs = integerOption(parsed, 'frame-ms', 10, 10000) ?? 80;
    const out = requiredOption(parsed, 'out');
    const session = await open(parsed, hooks);
    const common = commonOptions(parsed, session);
    if (common.noise === 'random') common.noise = 'const';
    if (stringOption(parsed, 'noise-seed') === undefined) common.noiseSeed = from;

    const zDim = session.spec.zDim;
    const ends = latentsForSeeds([from, to], zDim);
    const trunc = truncationVector(session.styleLayerCount, common.psi, common.cutoff);
    const steps = Array.from({ length: frames }, (_, f) => f / (frames - 1));
    const noise = noiseFor(session, common, [from]);
    let images: Tensor;
    if (space === 'z') {
      const z = tensor([frames, zDim]);
      steps.forEach((t, f) => z.data.set(slerp(ends.data.subarray(0, zDim), ends.data.subarray(zDim), t), f * zDim));
      images = await generateChunked(session, { z1: z, trunc, ...optionalNoise(repeatNoise(noise, frames)) });
    } else {
      // mix = t on every layer blends w1 and w2 linearly; mix is shared by a batch, so one run per frame.
      const pieces: Tensor[] = [];
      for (const t of steps) {
        pieces.push(
          await session.generate({
            z1: repeatRow(ends, 0, 1),
            z2: repeatRow(ends, 1, 1),
            mix: uniformMix(session.styleLayerCount, t),
            trunc,
            ...optionalNoise(noise),
          }),
        );
      }
      images = concatImages(pieces);
    }
    await writeGif(out, images, { scale: common.scale, delayMs });
    print(`wrote ${frames} frames from seed ${from} to seed ${to} (${space === 'z' ? 'slerp in z' : 'linear in w'}) to ${out}`);
    return 0;
  }, 'sganc interp');
}

/** `truncation`: rows of --seeds, one column per psi of --psi. */
export function runTruncation(argv: readonly string[], hooks: CompileHooks, help: string): Promise<number> {
  return reportErrors(async () => {
    const parsed = parse(argv, { seeds: { type: 'string' }, psi: { type: 'string' } });
    if (parsed === 'help') return printHelp(help);
    const seeds = parseSeeds(stringOption(parsed, 'seeds') ?? '0-5');
    const psis = parseNumberList('--psi', stringOption(parsed, 'psi') ?? '1,0.7,0.5,0,-0.5,-1');
    const out = requiredOption(parsed, 'out');
    if (stringOption(parsed, 'trunc') !== undefined) throw new UsageError('--trunc does not apply here; the columns take their psi from --psi');
    const session = await open(parsed, hooks);
    const common = commonOptions(parsed, session);

    const z = latentsForSeeds(seeds, session.spec.zDim);
    const noise = noiseFor(session, common, seeds);
    const columns: Tensor[] = [];
    for (const psi of psis) {
      columns.push(await generateChunked(session, { z1: z, trunc: truncationVector(session.styleLayerCount, psi, common.cutoff), ...optionalNoise(noise) }));
    }
    const pieces: Tensor[] = [];
    seeds.forEach((_, s) => columns.forEach((column) => pieces.push(sliceImages(column, s, 1))));
    await writeImageGrid(out, concatImages(pieces), { cols: psis.length, scale: common.scale });
    print(`wrote ${seeds.length} seeds x psi ${psis.join(', ')} (style layers below ${common.cutoff}) to ${out}`);
    return 0;
  }, 'sganc truncation');
}

function optionalNoise(noise: TensorMap | undefined): { noise?: TensorMap } {
  return noise === undefined ? {} : { noise };
}

function repeatNoise(noise: TensorMap | undefined, count: number): TensorMap | undefined {
  if (noise === undefined) return undefined;
  return Object.fromEntries(Object.entries(noise).map(([name, map]) => [name, gatherRows(map, new Array<number>(count).fill(0))]));
}

function printHelp(help: string): number {
  print(help);
  return 0;
}

/**
 * `metrics`: the Frechet distance between real and generated images in the feature space of the
 * shipped Fashion-MNIST classifier, plus the same distance between two disjoint real sets as a floor.
 */
export function runMetrics(argv: readonly string[], hooks: CompileHooks, help: string): Promise<number> {
  return reportErrors(async () => {
    const parsed = parse(argv, { metric: { type: 'string' }, samples: { type: 'string' }, data: { type: 'string' } });
    if (parsed === 'help') return printHelp(help);
    if (stringOption(parsed, 'scale') !== undefined) throw new UsageError('--scale upscales written images, and metrics writes none');
    const metric = stringOption(parsed, 'metric') ?? 'fd';
    if (metric !== 'fd') throw new UsageError(`unknown --metric '${metric}'; the only metric is fd`);
    const count = integerOption(parsed, 'samples', 10, 100_000) ?? 2000;
    const session = await open(parsed, hooks);
    const common = commonOptions(parsed, session);
    if (stringOption(parsed, 'trunc') === undefined) common.psi = 1;
    if (session.spec.imageChannels !== 1 || session.resolution > CLASSIFIER_RES) {
      throw new UsageError(
        `the metric's classifier reads 1-channel images of at most ${CLASSIFIER_RES} x ${CLASSIFIER_RES}, but this checkpoint generates ` +
          `${session.spec.imageChannels} x ${session.resolution} x ${session.resolution}`,
      );
    }
    const extractor = new FeatureExtractor(session.target);
    const data = await loadDataset(stringOption(parsed, 'data'), { channels: 1, resolution: CLASSIFIER_RES });
    if (data.count < count) throw new UsageError(`--samples ${count} is more than the ${data.count} images of ${data.description}`);

    const order = realOrder(data);
    // Smaller images, such as a checkpoint taken during progressive growing, meet box-filtered reals
    // of the same size; the extractor upscales both to the classifier's size.
    const res = session.resolution;
    const realStats = await extractor.stats(count, (indices) => data.batch(indices.map((i) => order[i]!), res));
    const fakeStats = await extractor.stats(count, (indices) =>
      generateChunked(session, {
        z1: latentsForSeeds(indices, session.spec.zDim),
        trunc: truncationVector(session.styleLayerCount, common.psi, common.cutoff),
        ...optionalNoise(noiseFor(session, common, indices)),
      }),
    );
    const distance = featureDistance(realStats, fakeStats);
    print(`FD ${distance.toFixed(3)}: ${count} reals of ${data.description} vs ${count} fakes (seeds 0-${count - 1}, ${describeTruncation(common)})`);
    if (data.count >= 2 * count) {
      const others = await extractor.stats(count, (indices) => data.batch(indices.map((i) => order[count + i]!), res));
      const floor = featureDistance(realStats, others);
      print(`FD ${floor.toFixed(3)}: the same reals vs ${count} other reals (what a generator that matches the data scores at this sample size)`);
    }
    print(
      `features: the ${FEATURE_DIM}-unit layer of the shipped Fashion-MNIST classifier (test accuracy ${(extractor.testAccuracy * 100).toFixed(2)}%); ` +
        'not Inception FID, so compare only with values of this command',
    );
    return 0;
  }, 'sganc metrics');
}
