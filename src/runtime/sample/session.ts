// Opens a run directory or checkpoint for sampling. It checks the run's model copy, compiles it into
// the cache like `sganc train` and imports the generated generate.ts for the compiled recipe. Then it
// loads the checkpoint's EMA weights and runs generator programs on batches of hand-built inputs.

import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { checkFile } from '../../check/index.ts';
import { formatDiagnostics } from '../../frontend/diagnostics.ts';
import { buildGenerator } from '../../layers/programs.ts';
import type { ModelSpec } from '../../model/spec.ts';
import { CheckpointError, findLatestCheckpoint, loadCheckpoint, type TrainingState } from '../checkpoint.ts';
import type { CompiledProgram, Target } from '../target.ts';
import { scalarTensor, tensor, type Tensor, type TensorMap } from '../tensor.ts';
import type { CompiledModel } from '../train/entry.ts';
import { InputError } from '../train/options.ts';
import { feedsFor } from '../train/programs.ts';
import { MODEL_COPY_NAME } from '../train/run-dir.ts';
import { generatorParamNames } from '../train/semantics.ts';
import { concreteTargetName, loadTarget } from '../train/targets.ts';

/** Source of the per-pixel noise of the synthesis network. */
export type NoiseChoice = 'random' | 'const' | 'none';

/** Checkpoint, model and target of a sampling command. */
export interface SessionOptions {
  /** A run directory (its newest checkpoint) or a checkpoint file. */
  source: string;
  /** Model file to use instead of the run's model.sgan copy. */
  model?: string;
  /** Use the trained weights instead of their EMA. */
  raw?: boolean;
  target: string;
  threads?: number;
  /** Compiles a model and returns the folder of its generated files (`compileCached` of `sganc train`). */
  compile: (spec: ModelSpec, modelText: string, target: string, modelFile: string) => string;
  readText: (path: string) => string;
}

/** One batch of generator inputs. `noise` has one tensor [N, 1, H, W] per noise layer, or is absent for no noise. */
export interface GeneratorBatch {
  z1: Tensor;
  z2?: Tensor;
  /** [L]: 1 where style layer i takes z2's w, 0 for z1's; values between blend the two w linearly. */
  mix?: Tensor;
  /** [L]: per-layer truncation psi, 1 for none. */
  trunc: Tensor;
  noise?: TensorMap;
}

/** A loaded checkpoint with a compiled generator per batch size. */
export class SamplingSession {
  private readonly programs = new Map<string, CompiledProgram>();

  constructor(
    readonly spec: ModelSpec,
    readonly compiled: CompiledModel,
    readonly checkpointPath: string,
    readonly state: TrainingState,
    readonly params: TensorMap,
    readonly wAvg: Tensor,
    readonly target: Target,
  ) {}

  /** Resolution of the images the checkpoint generates (the stage it was saved at). */
  get resolution(): number {
    return this.state.res;
  }

  /** Number of style layers of the whole model; `mix` and `trunc` have this length. */
  get styleLayerCount(): number {
    return this.spec.styleLayers.length;
  }

  /** Noise layers the generator reads at the checkpoint's stage, with their [1, 1, H, W] size per image. */
  noiseLayers(): { input: string; size: number }[] {
    const layers: { input: string; size: number }[] = [];
    for (const stage of this.spec.synthesis.stages) {
      if (stage.res > this.resolution) break;
      for (const layer of stage.layers) {
        if (layer.kind === 'noise') layers.push({ input: layer.input, size: stage.res });
      }
    }
    return layers;
  }

  /** Runs the generator on one batch and returns its images [N, C, res, res]. */
  async generate(batch: GeneratorBatch): Promise<Tensor> {
    const n = batch.z1.shape[0]!;
    const program = this.program(n, batch.noise === undefined ? 'none' : 'input');
    const layers = this.styleLayerCount;
    const runtime: TensorMap = {
      z1: batch.z1,
      z2: batch.z2 ?? batch.z1,
      mix: batch.mix ?? tensor([layers]),
      trunc: batch.trunc,
      w_avg: this.wAvg,
      alpha: scalarTensor(this.state.alpha),
      ...(batch.noise ?? {}),
    };
    const result = await program.run(feedsFor(program.graph, runtime, this.params));
    const image = result['image'];
    if (image === undefined) throw new Error(`internal error: generator program returned no 'image'`);
    return image;
  }

  private program(batch: number, noise: 'input' | 'none'): CompiledProgram {
    const key = `${batch}.${noise}`;
    let program = this.programs.get(key);
    if (program === undefined) {
      const graph = buildGenerator(this.spec, { stage: this.resolution, batch, fading: this.state.alpha < 1, noise });
      program = this.target.compile(graph, `${this.spec.name}.sample_r${this.resolution}_n${batch}_${noise}`);
      this.programs.set(key, program);
    }
    return program;
  }
}

/** The export of a generated generate.ts that sampling reads: the compiled model and its recipe. */
interface GeneratedSampler {
  compiled: CompiledModel;
}

/**
 * Opens a run directory or a checkpoint. The model comes from `options.model`, else from the
 * model.sgan copy in the checkpoint's folder. Throws InputError for a missing source or model.
 */
export async function openSession(options: SessionOptions): Promise<SamplingSession> {
  const checkpointPath = resolveCheckpoint(options.source);
  const modelFile = options.model ?? join(dirname(checkpointPath), MODEL_COPY_NAME);
  if (!existsSync(modelFile)) {
    throw new InputError(`model file ${modelFile} not found; give the model with --model FILE`);
  }
  const checked = checkFile(modelFile);
  if (checked.spec === undefined) {
    throw new InputError(`model ${modelFile} has errors:\n${formatDiagnostics(checked.diagnostics, checked.sources).trimEnd()}`);
  }
  const spec = checked.spec;
  const targetName = await concreteTargetName(options.target);
  const dir = options.compile(spec, options.readText(modelFile), targetName, modelFile);
  const generated = (await import(pathToFileURL(join(dir, 'generate.ts')).href)) as GeneratedSampler;

  const checkpoint = loadCheckpoint(checkpointPath, spec.params.map((p) => p.name));
  const params = options.raw === true ? checkpoint.tensors.params : checkpoint.tensors.ema;
  for (const name of generatorParamNames(spec)) {
    if (params[name] === undefined) throw new CheckpointError(`${checkpointPath}: missing generator tensor '${name}'`);
  }
  const target = await loadTarget(targetName, options.threads === undefined ? {} : { threads: options.threads });
  return new SamplingSession(spec, generated.compiled, checkpointPath, checkpoint.state, params, checkpoint.tensors.wAvg, target);
}

/** Returns the checkpoint a RUN|CHECKPOINT argument names: a file itself, or a directory's newest. */
export function resolveCheckpoint(source: string): string {
  if (!existsSync(source)) throw new InputError(`${source}: no such run directory or checkpoint file`);
  if (!statSync(source).isDirectory()) return source;
  const latest = findLatestCheckpoint(source);
  if (latest === undefined) throw new InputError(`${source}: no checkpoint-*.safetensors in that directory`);
  return latest;
}
