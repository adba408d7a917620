// `sganc eval`: runs one network of a model at one stage on tensors from a safetensors file and
// writes the outputs (and optionally gradients) to another safetensors file.

import { formatShape, sameShape } from '../../ir/graph.ts';
import { RANDN_KEY_LIMIT } from '../../ir/rng.ts';
import { buildEvalProgram, EVAL_NETWORKS, type EvalNetwork, type EvalRequest } from '../../layers/evaluate.ts';
import { ProgramRequestError } from '../../layers/context.ts';
import { stageResolutions, styleLayersAt } from '../../layers/networks.ts';
import type { ModelSpec } from '../../model/spec.ts';
import { readSafetensors, SafetensorsError, writeSafetensors } from '../../runtime/safetensors.ts';
import { type TensorMap, scalarTensor } from '../../runtime/tensor.ts';
import { getTarget, resolveTargetName, selectTargetName, TargetError } from '../../../targets/index.ts';
import { TensorTooLargeError, WebGpuUnavailableError } from '../../../targets/wgsl/index.ts';
import { WebglLayoutError } from '../../../targets/webgl/layout.ts';
import { loadModelOrExit } from '../load.ts';
import { attachNegativeValues, parseCommandLine, UsageError } from '../../runtime/train/options.ts';
import { reportUsageError } from '../usage.ts';

export const evalHelp = `Usage: sganc eval FILE --network NET --stage RES --params P --inputs I --out O [options]

Runs one network of the model in FILE and writes its outputs to a safetensors file.

Options:
  --network NET   mapping, synthesis, generator (mapping then synthesis) or discriminator
  --stage RES     resolution of the newest stage in pixels, for example 32 (not needed for mapping)
  --alpha A       fade-in weight of the newest stage in [0, 1]; omit it for a stable stage
  --params P      safetensors file with the parameters (sganc init writes one)
  --inputs I      safetensors file with the input tensors; the batch size is taken from them
  --out O         safetensors file to write
  --grad          also write grad.<name>, the gradient of the sum of all outputs, for every
                  parameter and input
  --r1            discriminator only: write r1, the sum over the batch of the squared input-gradient
                  norm, and its gradient grad.<name> for every parameter
  --seed N        noise key when the inputs hold no noise tensors, an integer in [0, 2^24) (default 0)
  --target T      execution target: ref (default, the plain reference executor), cpu (WebAssembly
                  SIMD on worker threads), webgl (gpu.js kernels on headless-gl, or gpu.js cpu
                  mode without a display), wgsl (WebGPU through Dawn) or auto (wgsl on a
                  hardware WebGPU adapter, else cpu)
  --threads N     threads of the cpu target, an integer >= 1 (default: SGAN_CPU_THREADS, else one
                  per core)
  -h, --help      print this help

Inputs by network: mapping z [N, z]; synthesis w [N, w] or style0, style1, ... [N, w]; generator
z [N, z]; discriminator x [N, C, RES, RES]. Synthesis and generator also accept noise.<layer>
[N, 1, H, W] for every noise layer up to the stage. See docs/eval.md.`;

/** Inputs or parameters that do not fit the model; exit code 1. */
export class EvalInputError extends Error {}

export interface EvalOptions {
  file: string;
  network: string;
  stage?: number;
  alpha?: number;
  params: string;
  inputs: string;
  out: string;
  grad: boolean;
  r1: boolean;
  seed: number;
  target: string;
  /** Threads of the cpu target; undefined means SGAN_CPU_THREADS, else one per core. */
  threads?: number;
}

export function parseEvalArgs(argv: string[]): EvalOptions | 'help' {
  const { values, positionals } = parseCommandLine({
    args: attachNegativeValues(argv),
    allowPositionals: true,
    options: {
      network: { type: 'string' },
      stage: { type: 'string' },
      alpha: { type: 'string' },
      params: { type: 'string' },
      inputs: { type: 'string' },
      out: { type: 'string' },
      grad: { type: 'boolean', default: false },
      r1: { type: 'boolean', default: false },
      seed: { type: 'string', default: '0' },
      target: { type: 'string', default: 'ref' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(`expected one model file, got ${positionals.length} arguments`);
  const required = (name: 'network' | 'params' | 'inputs' | 'out'): string => {
    const value = values[name];
    if (value === undefined) throw new UsageError(`missing required option --${name}`);
    return value;
  };
  if (values.grad && values.r1) throw new UsageError('--grad and --r1 both write grad.<name>; use one of them');
  try {
    resolveTargetName(values.target);
  } catch (error) {
    if (error instanceof TargetError) throw new UsageError(error.message);
    throw error;
  }
  const threads = values.threads === undefined ? undefined : parseInteger(values.threads, '--threads');
  if (threads !== undefined && threads < 1) throw new UsageError(`--threads must be an integer >= 1, got '${values.threads}'`);
  return {
    file: positionals[0]!,
    network: required('network'),
    stage: values.stage === undefined ? undefined : parseInteger(values.stage, '--stage'),
    alpha: values.alpha === undefined ? undefined : parseAlpha(values.alpha),
    params: required('params'),
    inputs: required('inputs'),
    out: required('out'),
    grad: values.grad,
    r1: values.r1,
    seed: parseSeed(values.seed),
    target: values.target,
    threads,
  };
}

function parseInteger(text: string, option: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value)) throw new UsageError(`${option} must be an integer, got '${text}'`);
  return value;
}

function parseAlpha(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 1)) throw new UsageError(`--alpha must be a number in [0, 1], got '${text}'`);
  return value;
}

function parseSeed(text: string): number {
  const value = parseInteger(text, '--seed');
  if (value < 0 || value >= RANDN_KEY_LIMIT) throw new UsageError(`--seed must be in [0, 2^24), got ${value}`);
  return value;
}

/** The result of one evaluation: every output tensor and the metadata written beside them. */
export interface EvalResult {
  outputs: TensorMap;
  metadata: Record<string, string>;
}

/** Builds the requested program, checks the feeds against it and runs it on the requested target. */
export async function evaluate(spec: ModelSpec, options: EvalOptions, params: TensorMap, inputs: TensorMap): Promise<EvalResult> {
  const request = evalRequest(spec, options, inputs);
  let graph;
  try {
    graph = buildEvalProgram(spec, request);
  } catch (error) {
    if (error instanceof ProgramRequestError) throw new EvalInputError(error.message);
    throw error;
  }

  const feeds: TensorMap = { ...inputs };
  if (request.fading) feeds.alpha = scalarTensor(options.alpha!);
  if (request.noise === 'random') feeds.noise_key = scalarTensor(options.seed);
  // Unknown names come first: a misspelt noise tensor would otherwise surface as a missing one.
  const unused = Object.keys(inputs).filter((name) => !graph.inputs().has(name));
  if (unused.length > 0) {
    const expected = [...graph.inputs().keys()].filter((name) => name !== 'alpha' && name !== 'noise_key');
    throw new EvalInputError(
      `${options.inputs}: ${describeNames(unused)} not an input of the ${request.network} network (expected ${expected.join(', ')})`,
    );
  }
  checkFeeds(graph.inputs(), graph, feeds, options.inputs, 'input');
  checkFeeds(graph.params(), graph, params, options.params, 'parameter');

  const target = getTarget(await selectTargetName(options.target), { threads: options.threads });
  const outputs = await target.compile(graph, `eval-${request.network}`).run({ ...params, ...feeds });
  const metadata: Record<string, string> = {
    model: spec.name,
    network: request.network,
    target: target.name,
    batch: String(request.batch),
  };
  if (request.network !== 'mapping') metadata.stage = String(request.stage);
  if (request.fading) metadata.alpha = String(options.alpha);
  if (request.noise === 'random' && request.network !== 'mapping' && request.network !== 'discriminator') {
    metadata.noise_key = String(options.seed);
  }
  return { outputs, metadata };
}

function describeNames(names: string[]): string {
  const quoted = names.map((name) => `'${name}'`).join(', ');
  return names.length === 1 ? `tensor ${quoted} is` : `tensors ${quoted} are`;
}

function evalRequest(spec: ModelSpec, options: EvalOptions, inputs: TensorMap): EvalRequest {
  if (!(EVAL_NETWORKS as readonly string[]).includes(options.network)) {
    throw new EvalInputError(`unknown network '${options.network}': expected ${EVAL_NETWORKS.join(', ')}`);
  }
  const network = options.network as EvalNetwork;
  if (options.r1 && network !== 'discriminator') throw new EvalInputError(`--r1 needs --network discriminator, got ${network}`);

  let stage = options.stage;
  if (network === 'mapping') {
    if (options.alpha !== undefined) throw new EvalInputError('the mapping network has no stages; remove --alpha');
    stage = spec.resolution;
  } else if (stage === undefined) {
    throw new UsageError(`missing --stage for the ${network} network (stages: ${stageResolutions(spec).join(', ')})`);
  }

  const styles = 'w' in inputs ? 'w' : 'per-layer';
  if (network === 'synthesis' && styles === 'w') {
    const perLayer = Object.keys(inputs).filter((name) => /^style\d+$/.test(name));
    if (perLayer.length > 0) throw new EvalInputError(`${options.inputs}: give either w or style0, style1, ..., not both`);
  }
  const batchInput = primaryInput(spec, network, stage, styles);
  const primary = inputs[batchInput];
  if (primary === undefined) throw new EvalInputError(`${options.inputs}: missing tensor '${batchInput}' for the ${network} network`);
  if (primary.shape.length === 0) throw new EvalInputError(`${options.inputs}: tensor '${batchInput}' is a scalar, but its first axis must be the batch`);

  return {
    network,
    stage,
    batch: primary.shape[0]!,
    fading: options.alpha !== undefined,
    noise: Object.keys(inputs).some((name) => name.startsWith('noise.')) ? 'input' : 'random',
    styles,
    grad: options.grad,
    r1: options.r1,
  };
}

/** Names the input whose first axis gives the batch size. */
function primaryInput(spec: ModelSpec, network: EvalNetwork, stage: number, styles: 'w' | 'per-layer'): string {
  switch (network) {
    case 'mapping':
    case 'generator':
      return 'z';
    case 'discriminator':
      return 'x';
    case 'synthesis': {
      if (styles === 'w') return 'w';
      const first = styleLayersAt(spec, stage)[0];
      return first === undefined ? 'w' : `style${first}`;
    }
  }
}

function checkFeeds(
  expectedFeeds: Map<string, number>,
  graph: { shape(id: number): readonly number[] },
  feeds: TensorMap,
  file: string,
  role: 'input' | 'parameter',
): void {
  for (const [name, id] of expectedFeeds) {
    const expected = graph.shape(id);
    const feed = feeds[name];
    if (feed === undefined) {
      throw new EvalInputError(`${file}: missing ${role} tensor '${name}' of shape ${formatShape(expected)}`);
    }
    if (!sameShape(feed.shape, expected)) {
      throw new EvalInputError(
        `${file}: ${role} tensor '${name}' has shape ${formatShape(feed.shape)}, expected ${formatShape(expected)}`,
      );
    }
  }
}

/** Entry point of `sganc eval`; returns the exit code. */
export async function evalCommand(argv: string[]): Promise<number> {
  let options: EvalOptions | 'help';
  try {
    options = parseEvalArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError('eval', error.message);
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${evalHelp}\n`);
    return 0;
  }

  const spec = loadModelOrExit(options.file);
  try {
    const params = readSafetensors(options.params).tensors;
    const inputs = readSafetensors(options.inputs).tensors;
    const { outputs, metadata } = await evaluate(spec, options, params, inputs);
    writeSafetensors(options.out, outputs, metadata);
    const names = Object.keys(outputs).filter((name) => !name.startsWith('grad.'));
    const grads = Object.keys(outputs).length - names.length;
    const listed = names.map((name) => `${name} ${formatShape(outputs[name]!.shape)}`).join(', ');
    process.stdout.write(`wrote ${listed}${grads > 0 ? ` and ${grads} gradients` : ''} to ${options.out}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return reportUsageError('eval', error.message);
    if (
      error instanceof EvalInputError ||
      error instanceof SafetensorsError ||
      error instanceof WebglLayoutError ||
      error instanceof WebGpuUnavailableError ||
      error instanceof TensorTooLargeError
    ) {
      process.stderr.write(`sganc eval: error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
