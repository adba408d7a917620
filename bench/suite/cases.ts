// The benchmark cases: each is one or more sganc programs with fixed feeds, a FLOP count, and a
// JSON description (`peer`) from which TensorFlow.js, PyTorch and ONNX Runtime build the same
// computation. Every output is named `<program>/<output>` so that one case may run several programs.

import { checkFile } from '../../src/check/index.ts';
import { Builder } from '../../src/ir/builder.ts';
import { type ConvAttrs, type Graph, numel } from '../../src/ir/graph.ts';
import { fillRandn } from '../../src/ir/rng.ts';
import type { LayerContext } from '../../src/layers/context.ts';
import { buildEvalProgram } from '../../src/layers/evaluate.ts';
import { applyLayers } from '../../src/layers/lower.ts';
import { buildDiscriminatorStep, buildGeneratorStep } from '../../src/layers/programs.ts';
import { noiseStream } from '../../src/layers/style.ts';
import type { Layer, ModelSpec, ParamSpec } from '../../src/model/spec.ts';
import { initParams } from '../../src/params/init.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';

/** The description from which a peer engine builds a case, in the ModelSpec's own layer kinds. */
export type PeerCase =
  | { kind: 'conv2d'; stride: number; padding: number }
  | { kind: 'matmul' }
  /** `layers` applied to input `x` `[N, C, H, W]`; AdaIN reads input `w`, noise reads its `input` name. */
  | { kind: 'layers'; layers: Layer[]; params: ParamSpec[] }
  | { kind: 'mapping' }
  /** Mapping, then synthesis at `stage` with one w for every style layer and noise from inputs. */
  | { kind: 'generator'; stage: number }
  /** One G step and one D step with R1 at `stage`, as buildGeneratorStep and buildDiscriminatorStep. */
  | { kind: 'train'; stage: number; r1Gamma: number }
  /** `sganc compile` of a model file; only sganc engines run it. */
  | { kind: 'compile'; file: string };

export interface BenchProgram {
  name: string;
  graph: Graph;
}

export interface BenchCase {
  /** Short unique id, used by `--cases` and in the JSON rows. */
  id: string;
  /** The label of the table row. */
  label: string;
  programs: BenchProgram[];
  /** Every input and parameter of every program, by name. */
  feeds: TensorMap;
  /** Floating-point operations of one run, 0 when not counted (compile time). */
  flops: number;
  peer: PeerCase;
  /** The checked model the case came from, for peers that build whole networks. */
  spec?: ModelSpec;
  /** The correctness gate's tolerance when it differs from DEFAULT_TOLERANCE, and why. */
  tolerance?: { value: number; reason: string };
  /** At most this many timed runs, for cases that take seconds per run. */
  maxRuns?: number;
  /** Outputs that the correctness gate skips, with the reason (printed in the report). */
  skipOutputs?: { pattern: RegExp; reason: string };
}

const SAME_3X3: ConvAttrs = { stride: 1, padding: [1, 1, 1, 1], groups: 1 };

/**
 * Counts 2 FLOPs per multiply-add of every matmul and convolution in the graph, as sganc builds it.
 * Elementwise ops and reductions are not counted. A nearest upsample followed by a 3x3 conv is one
 * stride-2 transposed convolution with 4x4 taps there, 2.25x fewer multiply-adds than the direct form.
 */
export function countFlops(graph: Graph): number {
  let flops = 0;
  for (const node of graph.nodes) {
    switch (node.kind) {
      case 'matmul': {
        const k = graph.shape(node.a).at(-1)!;
        flops += 2 * numel(node.shape) * k;
        break;
      }
      case 'conv2d':
      case 'conv2dBackWeight': {
        // Both are one multiply-add per (output pixel, output channel, input channel of the group, tap).
        const w = node.kind === 'conv2d' ? graph.shape(node.w) : node.shape;
        const y = node.kind === 'conv2d' ? node.shape : graph.shape(node.dy);
        flops += 2 * numel(y) * w[1]! * w[2]! * w[3]!;
        break;
      }
      case 'conv2dBackInput': {
        const w = graph.shape(node.w);
        flops += 2 * numel(graph.shape(node.dy)) * w[1]! * w[2]! * w[3]!;
        break;
      }
      default:
        break;
    }
  }
  return flops;
}

/** A deterministic generator of uniform values in [-1, 1) (xorshift32), so every run feeds the same data. */
export function uniformSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state / 2 ** 32) * 2 - 1;
  };
}

function uniformTensor(shape: number[], next: () => number, scale = 1): { shape: number[]; data: Float32Array } {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = next() * scale;
  return { shape, data };
}

function singleGraph(make: (b: Builder) => void): Graph {
  const b = new Builder();
  make(b);
  return b.graph;
}

export function conv2dCase(id: string, label: string, x: [number, number, number, number], outChannels: number): BenchCase {
  const w = [outChannels, x[1], 3, 3];
  const graph = singleGraph((b) => b.output('out', b.conv2d(b.input('x', x), b.input('w', w), SAME_3X3)));
  const next = uniformSource(11);
  return {
    id,
    label: `${label} conv2d 3x3 ${x.join('x')} -> ${outChannels}`,
    programs: [{ name: 'conv', graph }],
    feeds: { x: uniformTensor(x, next), w: uniformTensor(w, next, 1 / Math.sqrt(x[1] * 9)) },
    flops: countFlops(graph),
    peer: { kind: 'conv2d', stride: 1, padding: 1 },
  };
}

export function matmulCase(id: string, label: string, m: number, k: number, n: number): BenchCase {
  const graph = singleGraph((b) => b.output('out', b.matmul(b.input('a', [m, k]), b.input('b', [k, n]))));
  const next = uniformSource(12);
  return {
    id,
    label: `${label} matmul ${m}x${k} @ ${k}x${n}`,
    programs: [{ name: 'matmul', graph }],
    feeds: { a: uniformTensor([m, k], next), b: uniformTensor([k, n], next, 1 / Math.sqrt(k)) },
    flops: countFlops(graph),
    peer: { kind: 'matmul' },
  };
}

/**
 * Builds one synthesis layer at output resolution `res`: nearest 2x upsample, 3x3 conv, noise,
 * bias, leaky ReLU 0.2 and AdaIN, with `channels` in and out and a style vector of `wDim`. The
 * parameters are uniform with variance 1 and scaled at run time like equalized-learning-rate weights.
 */
export function synthesisLayerCase(res: number, batch: number, channels: number, wDim: number): BenchCase {
  const p = (name: string, shape: number[], runtimeScale: number): ParamSpec => ({
    name,
    network: 'synthesis',
    shape,
    init: { kind: 'normal', std: 1 },
    runtimeScale,
  });
  const params = [
    p('conv.weight', [channels, channels, 3, 3], Math.SQRT2 / Math.sqrt(channels * 9)),
    p('noise.strength', [channels], 1),
    p('conv.bias', [channels], 1),
    p('adain.style.weight', [2 * channels, wDim], 1 / Math.sqrt(wDim)),
    p('adain.style.bias', [2 * channels], 1),
  ];
  const layers: Layer[] = [
    { kind: 'upsample', mode: 'nearest' },
    { kind: 'conv', name: 'conv', in: channels, out: channels, kernel: 3, weight: 'conv.weight' },
    { kind: 'noise', name: 'noise', channels, strength: 'noise.strength', input: 'noise' },
    { kind: 'bias', name: 'conv.bias', channels, param: 'conv.bias' },
    { kind: 'lrelu', slope: 0.2, gain: 1 },
    { kind: 'adain', name: 'adain', channels, styleIndex: 0, eps: 1e-8, styleWeight: 'adain.style.weight', styleBias: 'adain.style.bias' },
  ];
  // The layer lowering reads only the parameter table of the spec, so a table alone can replace a model here.
  const spec = { name: 'synthesis-layer', params } as unknown as ModelSpec;
  const inputShape = [batch, channels, res / 2, res / 2];

  const b = new Builder();
  const w = b.input('w', [batch, wDim]);
  const ctx: LayerContext = { b, spec, batch, noise: 'input', style: () => w };
  b.output('y', applyLayers(ctx, b.input('x', inputShape), layers));

  const next = uniformSource(13);
  const feeds: TensorMap = {
    x: uniformTensor(inputShape, next),
    w: uniformTensor([batch, wDim], next),
    noise: uniformTensor([batch, 1, res, res], next),
  };
  for (const param of params) feeds[param.name] = uniformTensor(param.shape, next, Math.sqrt(3));
  return {
    id: `layer${res}`,
    label: `synthesis layer ${res}x${res}, ${batch}x${channels}`,
    programs: [{ name: 'layer', graph: b.graph }],
    feeds,
    flops: countFlops(b.graph),
    peer: { kind: 'layers', layers, params },
  };
}

/** Loads and checks a model file; throws with the file name when it has errors. */
export function loadSpec(file: string): ModelSpec {
  const checked = checkFile(file);
  if (checked.spec === undefined) throw new Error(`${file} has errors; run sganc check ${file}`);
  return checked.spec;
}

/** Parameters from the project's initialiser (seed 1), with noise strengths set nonzero so noise matters. */
function benchParams(spec: ModelSpec): TensorMap {
  const params = initParams(spec, 1);
  const next = uniformSource(14);
  for (const p of spec.params) {
    if (p.name.endsWith('.strength')) params[p.name] = uniformTensor(p.shape, next, 0.5);
  }
  return params;
}

export function mappingCase(spec: ModelSpec, batch: number): BenchCase {
  const graph = buildEvalProgram(spec, { network: 'mapping', stage: 0, batch, fading: false, noise: 'input', styles: 'w', grad: false, r1: false });
  const next = uniformSource(15);
  return {
    id: 'mapping',
    label: `${spec.name} mapping network, batch ${batch}`,
    programs: [{ name: 'mapping', graph }],
    feeds: { ...benchParams(spec), z: uniformTensor([batch, spec.zDim], next) },
    flops: countFlops(graph),
    peer: { kind: 'mapping' },
    spec,
  };
}

function noiseFeeds(graph: Graph, next: () => number): TensorMap {
  const feeds: TensorMap = {};
  for (const [name, id] of graph.inputs()) {
    if (name.startsWith('noise.')) feeds[name] = uniformTensor([...graph.shape(id)], next, Math.sqrt(3));
  }
  return feeds;
}

export function generatorCase(spec: ModelSpec, stage: number, batch: number): BenchCase {
  const graph = buildEvalProgram(spec, { network: 'generator', stage, batch, fading: false, noise: 'input', styles: 'w', grad: false, r1: false });
  const next = uniformSource(16);
  return {
    id: 'generator',
    label: `${spec.name} generator forward ${stage}x${stage}, batch ${batch}`,
    programs: [{ name: 'generator', graph }],
    feeds: { ...benchParams(spec), z: uniformTensor([batch, spec.zDim], next), ...noiseFeeds(graph, next) },
    flops: countFlops(graph),
    peer: { kind: 'generator', stage },
    spec,
  };
}

/**
 * Builds one G step and one D step with R1, the two gradient programs of a training iteration.
 * The fakes are fixed inputs here, so the generator pass that makes them, Adam and the EMA are not
 * timed. The G step draws its noise inside the program with the counter-based randn under
 * `noise_key`. The same values are computed here and fed to the peers as `noise.<layer>` inputs.
 */
export function trainCase(spec: ModelSpec, stage: number, batch: number): BenchCase {
  const g = buildGeneratorStep(spec, { stage, batch, fading: false });
  const d = buildDiscriminatorStep(spec, { stage, batch, fading: false, r1Gamma: spec.train.r1Gamma });
  const next = uniformSource(17);
  const layerCount = spec.styleLayers.length;
  const imageShape = [batch, spec.imageChannels, stage, stage];
  const noiseKey = 5;
  const feeds: TensorMap = {
    ...benchParams(spec),
    z1: uniformTensor([batch, spec.zDim], next),
    z2: uniformTensor([batch, spec.zDim], next),
    // No style mixing and no truncation: style layer i reads w1 unchanged.
    mix: { shape: [layerCount], data: new Float32Array(layerCount) },
    trunc: { shape: [layerCount], data: new Float32Array(layerCount).fill(1) },
    w_avg: { shape: [spec.wDim], data: new Float32Array(spec.wDim) },
    noise_key: { shape: [], data: Float32Array.of(noiseKey) },
    real: uniformTensor(imageShape, next),
    fake: uniformTensor(imageShape, next),
  };
  for (const s of spec.synthesis.stages.filter((st) => st.res <= stage)) {
    for (const layer of s.layers) {
      if (layer.kind !== 'noise') continue;
      const shape = [batch, 1, s.res, s.res];
      const data = new Float32Array(numel(shape));
      fillRandn(data, noiseKey, noiseStream(spec, layer.name));
      feeds[layer.input] = { shape, data };
    }
  }
  return {
    id: 'train',
    label: `${spec.name} training step ${stage}x${stage} (G step + D step with R1), batch ${batch}`,
    programs: [
      { name: 'g', graph: g },
      { name: 'd', graph: d },
    ],
    feeds,
    flops: countFlops(g) + countFlops(d),
    peer: { kind: 'train', stage, r1Gamma: spec.train.r1Gamma },
    tolerance: {
      value: 1e-2,
      reason:
        'the gradient of the 4x4 noise strengths sums many terms that cancel: in a float64 PyTorch run of the same step it differed ' +
        'by 1.3e-3 from the ref target and by 5.8e-3 from float32 PyTorch, and every other output by under 3e-4',
    },
    spec,
  };
}

export function compileCase(file: string): BenchCase {
  const name = file.replace(/^.*\//, '').replace(/\.sgan$/, '');
  return { id: `compile-${name}`, label: `compile ${file}`, programs: [], feeds: {}, flops: 0, peer: { kind: 'compile', file }, maxRuns: 3 };
}

export interface CaseOptions {
  quick: boolean;
}

/** Builds every case of the suite; `--quick` drops the largest shapes. */
export function buildCases(options: CaseOptions): BenchCase[] {
  const fashion = loadSpec('examples/fashion-32.sgan');
  const batch = fashion.train.batch.perRes[32] ?? fashion.train.batch.base;
  const layerResolutions = options.quick ? [8, 32] : [8, 16, 32, 64];
  return [
    conv2dCase('conv-fashion', 'fashion-32 32x32', [16, 32, 32, 32], 32),
    conv2dCase('conv-stylegan', 'StyleGAN 32x32', [2, 128, 32, 32], 128),
    ...(options.quick ? [] : [conv2dCase('conv-stylegan-512', 'StyleGAN 8x8', [4, 512, 8, 8], 512)]),
    matmulCase('matmul-mapping', 'StyleGAN mapping', 64, 512, 512),
    ...(options.quick ? [] : [matmulCase('matmul-style', 'StyleGAN AdaIN style', 64, 512, 1024)]),
    ...layerResolutions.map((res) => synthesisLayerCase(res, 4, 64, 128)),
    mappingCase(fashion, batch),
    generatorCase(fashion, 32, batch),
    trainCase(fashion, 32, batch),
    compileCase('examples/fashion-32.sgan'),
    compileCase('examples/stylegan-ffhq-1024.sgan'),
  ];
}
