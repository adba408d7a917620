// The StyleGAN training loop that generated `train.ts` files run. It implements progressive growing
// with fade-in, learning rate and minibatch per resolution, and Adam for G and D reset at each new
// resolution. The loss is the non-saturating logistic loss with R1 every step, with style mixing,
// the generator EMA and w_avg tracking. Every random draw comes from one seeded Rng whose state goes
// into each checkpoint, so a resumed run reproduces an uninterrupted one bit for bit on the same target.

import { basename, join, resolve } from 'node:path';

import type { ModelSpec, TrainRecipe } from '../model/spec.ts';
import { findLatestCheckpoint, pruneCheckpoints, type TrainingState } from './checkpoint.ts';
import { loadDataset, type ImageDataset } from './data.ts';
import { Rng } from './rng.ts';
import { emaBeta, learningRate, minibatchSize, mixingLayers, phaseAt, type Phase } from './schedule.ts';
import { formatStatusLine, ProgressBar, residentBytes, statusHeader } from './status.ts';
import type { Target } from './target.ts';
import { scalarTensor, tensor, type Tensor, type TensorMap } from './tensor.ts';
import { DEFAULT_KEEP_CHECKPOINTS, DEFAULT_METRICS_SAMPLES, type TrainOptions, UsageError } from './train/options.ts';
import { checkMetricsSupport, TickMetrics } from './train/metrics.ts';
import { feedsFor, ProgramCache } from './train/programs.ts';
import {
  appendLog,
  ensureRunDir,
  truncateLog,
  writeFakes,
  writeLosses,
  writeModelCopy,
  writeOptions,
  writeReals,
  type TickRecord,
} from './train/run-dir.ts';
import { latentsForSeeds, sampleImages, truncationVector } from './train/sample.ts';
import { firstNonFinite, mixVector, styleLayersAtStage, updateEma, updateWAvg, discriminatorParamNames, generatorParamNames } from './train/semantics.ts';
import { mergeResumedOptions, resumeFrom, startFresh, writeCheckpoint, type Weights } from './train/state.ts';
import { concreteTargetName, loadTarget } from './train/targets.ts';

export { runGeneratedTrainer, runGeneratedSampler } from './train/entry.ts';
export type { TrainOptions } from './train/options.ts';

/** Inputs of a training run: the checked model, the recipe to train with and the model's identity. */
export interface TrainInput {
  spec: ModelSpec;
  /** The recipe to follow; a generated trainer passes its own (editable) copy of `spec.train`. */
  recipe: TrainRecipe;
  /** The .sgan source, copied into the run directory. */
  modelText: string;
  /** Hash of the model text, compiler version and target; checked on resume. */
  modelHash: string;
  options: TrainOptions;
  /** Options that the user gave explicitly; on resume, a differing run-defining one is an error. */
  given?: ReadonlySet<keyof TrainOptions>;
  /** Receives status lines and messages; defaults to stdout. */
  print?: (line: string) => void;
  /** Receives warnings; defaults to stderr. */
  warn?: (line: string) => void;
  /** Program name that prefixes error lines, such as 'sganc train' or 'train.ts'; none by default. */
  program?: string;
  /** Test hook: an already-loaded target, instead of loading `options.target`. */
  target?: Target;
}

export type TrainOutcome = 'finished' | 'interrupted' | 'non-finite';

export interface TrainResult {
  outcome: TrainOutcome;
  /** 0 when finished or interrupted, 1 after a non-finite loss. */
  exitCode: number;
  runDir: string;
  images: number;
  /** The newest checkpoint on disk when the run stopped. */
  checkpoint: string | undefined;
  /** The latest fakes grid, when one was written. */
  fakes: string | undefined;
}

/** Number of fakes in each grid, drawn from the fixed seeds 0 .. FAKES_COUNT - 1. */
export const FAKES_COUNT = 64;
/** Key of the counter-based noise in fakes grids, fixed so grids of successive ticks compare. */
const FAKES_NOISE_KEY = 12345;
/** Seed of the draw of images shown in reals.png; separate from the run's seed so it never shifts training. */
const REALS_SEED = 7;
/** Grid cells are scaled up by an integer factor to about this many pixels, whatever the resolution. */
const GRID_CELL_PIXELS = 64;

/** Per-tick sums of the scalar outputs, for the means in the status line and the log. */
class TickTotals {
  iterations = 0;
  lossG = 0;
  lossD = 0;
  r1 = 0;
  scoreReal = 0;
  scoreFake = 0;

  add(values: { lossG: number; lossD: number; r1: number; scoreReal: number; scoreFake: number }): void {
    this.iterations += 1;
    this.lossG += values.lossG;
    this.lossD += values.lossD;
    this.r1 += values.r1;
    this.scoreReal += values.scoreReal;
    this.scoreFake += values.scoreFake;
  }

  mean(sum: number): number {
    return this.iterations === 0 ? NaN : sum / this.iterations;
  }
}

/** A loss that came out NaN or infinite; the run stops without writing a checkpoint. */
class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly lossName: string,
    readonly value: number,
    readonly kimg: number,
  ) {
    super(`${lossName} is ${value} at kimg ${kimg.toFixed(3)}`);
  }
}

/**
 * Trains a model with `input.options`: starts a new run or continues one, prints a status line per
 * tick, writes grids, the loss plot and checkpoints. Ctrl-C (SIGINT) finishes the current iteration,
 * writes a checkpoint and returns with exit code 0. A NaN or infinite loss stops the run with exit
 * code 1 and leaves the last good checkpoint as the newest.
 */
export async function train(input: TrainInput): Promise<TrainResult> {
  const print = input.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const warn = input.warn ?? ((line: string) => process.stderr.write(line + '\n'));
  const { spec, recipe } = input;

  const resumeDir = input.options.resume;
  const options = resumeDir === undefined ? input.options : mergeResumedOptions(resumeDir, input.options, input.given);
  const runDir = resolve(options.out ?? resumeDir ?? join('runs', spec.name));
  const existing = findLatestCheckpoint(runDir);
  if (existing !== undefined && (resumeDir === undefined || resolve(resumeDir) !== runDir)) {
    // Mixing checkpoints of two runs in one folder would make --resume pick the wrong one.
    throw new UsageError(
      `run directory ${runDir} already holds checkpoints (${basename(existing)}); ` +
        `continue it with --resume ${runDir}, or choose a new --out`,
    );
  }
  const metricsTicks = options.metricsTicks ?? 0;
  if (metricsTicks > 0) checkMetricsSupport(spec);
  const targetName = await concreteTargetName(options.target);
  const target = input.target ?? (await loadTarget(targetName, { threads: options.threads }));

  const generatorNames = generatorParamNames(spec);
  const discriminatorNames = discriminatorParamNames(spec);
  const { weights, state } = resumeDir === undefined
    ? startFresh(spec, recipe, options, input.modelHash)
    : resumeFrom(resumeDir, spec, recipe, input.modelHash);

  if (state.images > 0 && state.images >= options.kimg * 1000) {
    // Checked before anything in the run directory changes, so the log keeps its later records.
    throw new UsageError(
      `the run in ${runDir} is already at kimg ${(state.images / 1000).toFixed(3)}; ` +
        `give a larger --kimg to train longer`,
    );
  }

  const dataset = await loadDataset(options.data, {
    channels: spec.imageChannels,
    resolution: spec.resolution,
    pad: options.pad,
    upscale: options.upscale,
    warn,
  });

  const metrics = metricsTicks > 0 ? new TickMetrics(target, dataset, options.metricsSamples ?? DEFAULT_METRICS_SAMPLES) : undefined;

  ensureRunDir(runDir);
  writeModelCopy(runDir, input.modelText);
  writeOptions(runDir, { options, model: spec.file, target: targetName, modelHash: input.modelHash });
  const records = truncateLog(runDir, state.images);
  print(`training ${spec.name} on ${dataset.description}`);
  const start = state.images > 0 ? `resuming at kimg ${(state.images / 1000).toFixed(3)}` : 'starting at kimg 0';
  print(`run directory ${runDir}; target ${targetName}; ${start}; training until kimg ${options.kimg}`);
  if (state.images === 0) {
    const realsPath = await writeReals(runDir, realsGrid(dataset, spec.resolution), gridScale(spec.resolution));
    print(`reals: ${realsPath}`);
  }
  print(`fakes after each snapshot: ${join(runDir, 'fakes-latest.png')}`);

  const programs = new ProgramCache(spec, recipe, target);
  const rng = Rng.fromState(state.rngState);
  const stopRequest = { requested: false };
  const onSigint = (): void => {
    if (stopRequest.requested) {
      // A second Ctrl-C means the user does not want to wait for the checkpoint.
      process.exit(130);
    }
    stopRequest.requested = true;
    warn('\ninterrupt: finishing the current iteration, then writing a checkpoint (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onSigint);

  const targetImages = Math.round(options.kimg * 1000);
  const tickImages = Math.max(1, Math.round(options.tickKimg * 1000));
  const bar = new ProgressBar();
  let lastCheckpoint = findLatestCheckpoint(runDir);
  let lastFakes: string | undefined;
  let outcome: TrainOutcome = 'finished';
  print(statusHeader());

  try {
    while (state.images < targetImages && !stopRequest.requested) {
      const tickStart = state.images;
      const tickEnd = Math.min(targetImages, tickStart + tickImages);
      const totals = new TickTotals();
      const started = performance.now();
      let phase = phaseAt(recipe, spec.resolution, state.images / 1000);

      while (state.images < tickEnd && !stopRequest.requested) {
        phase = phaseAt(recipe, spec.resolution, state.images / 1000);
        const values = await trainIteration(spec, recipe, phase, programs, dataset, rng, weights, state, generatorNames, discriminatorNames);
        totals.add(values);
        bar.update(state.images - tickStart, tickEnd - tickStart, `kimg ${(state.images / 1000).toFixed(3)}`);
        // Gives the event loop a turn, so a pending SIGINT is handled between iterations.
        await new Promise((resolveYield) => setImmediate(resolveYield));
      }
      bar.clear();
      if (totals.iterations === 0) break;

      const seconds = (performance.now() - started) / 1000;
      state.trainingSeconds += seconds;
      state.tick += 1;
      state.rngState = rng.getState();
      const record = tickRecord(state, phase, totals, seconds, state.images - tickStart, recipe);
      const lastTick = state.images >= targetImages || stopRequest.requested;
      let fdLine: string | undefined;
      if (metrics !== undefined && (lastTick || state.tick % metricsTicks === 0)) {
        const metricStart = performance.now();
        record.fd = await metrics.measure(phase.res, (indices) => generateForMetric(spec, programs, weights, phase, indices));
        record.fd_samples = metrics.samples;
        const metricSeconds = (performance.now() - metricStart) / 1000;
        fdLine = `FD ${record.fd.toFixed(3)} at kimg ${record.kimg.toFixed(3)} (${metrics.samples} fakes vs reals at ${phase.res}x${phase.res}, ${metricSeconds.toFixed(1)} s)`;
      }
      records.push(record);
      appendLog(runDir, record);
      print(
        formatStatusLine({
          tick: record.tick,
          kimg: record.kimg,
          resolution: record.resolution,
          alpha: record.alpha,
          secPerTick: record.sec_per_tick,
          secPerKimg: record.sec_per_kimg,
          lossG: record.loss_g,
          lossD: record.loss_d,
          r1: record.r1,
          rssBytes: record.rss_mib * 2 ** 20,
        }),
      );
      if (fdLine !== undefined) print(fdLine);
      await writeLosses(runDir, records);

      // Read again: a Ctrl-C during the writes above still gets its checkpoint.
      const finalTick = state.images >= targetImages || stopRequest.requested;
      if (finalTick || state.tick % options.snapshotTicks === 0) {
        lastFakes = await writeFakesGrid(runDir, spec, programs, weights, state, phase);
        lastCheckpoint = writeCheckpoint(runDir, weights, state);
        pruneCheckpoints(runDir, options.keepCheckpoints ?? DEFAULT_KEEP_CHECKPOINTS);
      }
    }
    if (stopRequest.requested) outcome = 'interrupted';
  } catch (error) {
    if (!(error instanceof NonFiniteLossError)) throw error;
    bar.clear();
    warn(`${input.program === undefined ? '' : `${input.program}: `}error: ${error.message}; the run is stopped.`);
    warn(
      lastCheckpoint === undefined
        ? 'No checkpoint was written before the failure. Try a lower learning rate in the recipe.'
        : `The last good checkpoint is ${lastCheckpoint}. Try a lower learning rate, then --resume ${runDir}.`,
    );
    outcome = 'non-finite';
  } finally {
    process.off('SIGINT', onSigint);
  }

  if (outcome !== 'non-finite') {
    print(`${outcome === 'interrupted' ? 'interrupted' : 'finished'} at kimg ${(state.images / 1000).toFixed(3)}`);
    if (lastCheckpoint !== undefined) print(`checkpoint: ${lastCheckpoint}`);
    if (lastFakes !== undefined) print(`fakes: ${lastFakes} (newest also in ${join(runDir, 'fakes-latest.png')})`);
  }
  return {
    outcome,
    exitCode: outcome === 'non-finite' ? 1 : 0,
    runDir,
    images: state.images,
    checkpoint: lastCheckpoint,
    fakes: lastFakes,
  };
}

/**
 * Runs one iteration: fakes from the current generator, a D step on fakes and reals, Adam on D, a G
 * step on fresh latents, Adam on G, then the EMA and w_avg updates. Mutates weights and state.
 */
async function trainIteration(
  spec: ModelSpec,
  recipe: TrainRecipe,
  phase: Phase,
  programs: ProgramCache,
  dataset: ImageDataset,
  rng: Rng,
  weights: Weights,
  state: TrainingState,
  generatorNames: readonly string[],
  discriminatorNames: readonly string[],
): Promise<{ lossG: number; lossD: number; r1: number; scoreReal: number; scoreFake: number }> {
  if (phase.level !== state.level) {
    // StyleGAN starts each resolution with fresh optimizer moments.
    weights.adamG.reset();
    weights.adamD.reset();
    state.level = phase.level;
  }
  state.res = phase.res;
  state.alpha = phase.alpha;
  const batch = minibatchSize(recipe, phase.res);
  const lr = learningRate(recipe, phase.res);
  const kimg = state.images / 1000;
  const { generator, generatorStep, discriminatorStep } = programs.phase({ stage: phase.res, batch, fading: phase.fading });
  const activeLayers = styleLayersAtStage(spec, phase.res);
  const shared: TensorMap = {
    trunc: truncationVector(spec.styleLayers.length, 1, 0),
    w_avg: weights.wAvg,
    alpha: scalarTensor(phase.alpha),
  };

  const fakeLatents = drawLatents(spec, recipe, rng, batch, activeLayers);
  const generated = await generator.run(feedsFor(generator.graph, fakeLatents, shared, weights.params));
  const fake = requireOutput(generated, 'image');
  const wMean = requireOutput(generated, 'w_mean');

  const indices = Array.from({ length: batch }, () => rng.int(dataset.count));
  const mirror = recipe.mirror ? Array.from({ length: batch }, () => rng.uniform() < 0.5) : undefined;
  const real = dataset.batch(indices, phase.res, mirror);
  const dResult = await discriminatorStep.run(feedsFor(discriminatorStep.graph, { real, fake }, shared, weights.params));
  const lossD = scalarOutput(dResult, 'loss_d');
  const r1 = scalarOutput(dResult, 'r1');
  checkFinite({ loss_d: lossD, r1 }, kimg);
  weights.adamD.step(weights.params, gradients(dResult, discriminatorNames, weights.params), lr);

  const stepLatents = drawLatents(spec, recipe, rng, batch, activeLayers);
  const gResult = await generatorStep.run(feedsFor(generatorStep.graph, stepLatents, shared, weights.params));
  const lossG = scalarOutput(gResult, 'loss_g');
  checkFinite({ loss_g: lossG }, kimg);
  weights.adamG.step(weights.params, gradients(gResult, generatorNames, weights.params), lr);

  updateEma(weights.ema, weights.params, generatorNames, emaBeta(recipe, batch));
  updateWAvg(weights.wAvg, wMean, recipe.wAvgDecay);
  state.images += batch;
  state.adamSteps = { g: weights.adamG.steps, d: weights.adamD.steps };
  return { lossG, lossD, r1, scoreReal: scalarOutput(dResult, 'score_real'), scoreFake: scalarOutput(dResult, 'score_fake') };
}

/** Draws z1, z2, the mixing crossover and the noise key, always in this order, from the run's Rng. */
function drawLatents(spec: ModelSpec, recipe: TrainRecipe, rng: Rng, batch: number, activeLayers: number): TensorMap {
  const z1 = tensor([batch, spec.zDim], rng.normals(batch * spec.zDim));
  const z2 = tensor([batch, spec.zDim], rng.normals(batch * spec.zDim));
  const crossover = mixingLayers(rng, recipe.mixingProb, activeLayers);
  // The counter-based noise takes an integer key below 2^24, which float32 stores exactly.
  const noiseKey = rng.int(2 ** 24);
  return { z1, z2, mix: mixVector(spec.styleLayers.length, crossover), noise_key: scalarTensor(noiseKey) };
}

/** Collects `grad.<name>` outputs; a parameter the program does not reach gets a zero gradient. */
function gradients(result: TensorMap, names: readonly string[], params: TensorMap): TensorMap {
  const grads: TensorMap = {};
  for (const name of names) {
    grads[name] = result[`grad.${name}`] ?? tensor(params[name]!.shape);
  }
  return grads;
}

function requireOutput(result: TensorMap, name: string): Tensor {
  const value = result[name];
  if (value === undefined) throw new Error(`internal error: program returned no '${name}'`);
  return value;
}

function scalarOutput(result: TensorMap, name: string): number {
  return requireOutput(result, name).data[0]!;
}

function checkFinite(values: Record<string, number>, kimg: number): void {
  const bad = firstNonFinite(values);
  if (bad !== undefined) throw new NonFiniteLossError(bad, values[bad]!, kimg);
}

function tickRecord(
  state: TrainingState,
  phase: Phase,
  totals: TickTotals,
  seconds: number,
  images: number,
  recipe: TrainRecipe,
): TickRecord {
  return {
    tick: state.tick,
    images: state.images,
    kimg: state.images / 1000,
    resolution: phase.res,
    alpha: phase.alpha,
    batch: minibatchSize(recipe, phase.res),
    lr: learningRate(recipe, phase.res),
    sec_per_tick: seconds,
    sec_per_kimg: seconds / (images / 1000),
    loss_g: totals.mean(totals.lossG),
    loss_d: totals.mean(totals.lossD),
    r1: totals.mean(totals.r1),
    score_real: totals.mean(totals.scoreReal),
    score_fake: totals.mean(totals.scoreFake),
    rss_mib: Math.round(residentBytes() / 2 ** 20),
    time: new Date().toISOString(),
  };
}

/** Writes the fakes grid of the EMA generator at the current stage, from fixed seeds and noise. */
async function writeFakesGrid(
  runDir: string,
  spec: ModelSpec,
  programs: ProgramCache,
  weights: Weights,
  state: TrainingState,
  phase: Phase,
): Promise<string> {
  const seeds = Array.from({ length: FAKES_COUNT }, (_, i) => i);
  const program = programs.sampler({ stage: phase.res, batch: FAKES_COUNT, fading: phase.fading });
  const images = await sampleImages(program, {
    spec,
    params: weights.ema,
    wAvg: weights.wAvg,
    z: latentsForSeeds(seeds, spec.zDim),
    trunc: truncationVector(spec.styleLayers.length, 1, 0),
    noiseKey: FAKES_NOISE_KEY,
    alpha: phase.alpha,
  });
  return writeFakes(runDir, images, state.images, gridScale(phase.res));
}

/** Returns EMA generator images for seeds `indices` at the current stage, untruncated, for the metric. */
function generateForMetric(spec: ModelSpec, programs: ProgramCache, weights: Weights, phase: Phase, indices: number[]): Promise<Tensor> {
  const program = programs.sampler({ stage: phase.res, batch: indices.length, fading: phase.fading });
  return sampleImages(program, {
    spec,
    params: weights.ema,
    wAvg: weights.wAvg,
    z: latentsForSeeds(indices, spec.zDim),
    trunc: truncationVector(spec.styleLayers.length, 1, 0),
    noiseKey: FAKES_NOISE_KEY,
    alpha: phase.alpha,
  });
}

function realsGrid(dataset: ImageDataset, res: number): Tensor {
  const rng = new Rng(REALS_SEED);
  const count = Math.min(FAKES_COUNT, dataset.count);
  const indices = Array.from({ length: count }, () => rng.int(dataset.count));
  return dataset.batch(indices, res);
}

function gridScale(res: number): number {
  return Math.max(1, Math.round(GRID_CELL_PIXELS / res));
}
