// The op suite that every target runs: each node kind forward, and the gradient graphs of small ops,
// against the reference executor. Each target passes its error bounds per op, and the gradients are
// also checked against central finite differences of the target's own forward run.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradients } from '../../src/autodiff/gradients.ts';
import { Builder, conv2dShape } from '../../src/ir/builder.ts';
import { type BinaryOp, type ConvAttrs, type Graph, type NodeId, numel, type Shape, type UnaryOp } from '../../src/ir/graph.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { buildGraph, randomFeeds } from '../cpu/helpers.ts';
import { uniformSource } from '../ref/helpers.ts';
import { type Bound, boundFailures, expectWithinBound } from './compare.ts';
import { runGraph } from '../../targets/ref/index.ts';

/** A target under test: `run` compiles `graph` and runs it on `feeds`. */
export interface OpTarget {
  name: string;
  run(graph: Graph, feeds: TensorMap): Promise<TensorMap>;
}

/** The ops that a target gives a forward bound for. leaf covers fill, literal, param and reshape. */
export type OpKey =
  | BinaryOp
  | UnaryOp
  | 'select'
  | 'leaf'
  | 'movement'
  | 'randn'
  | 'sum'
  | 'reduceMax'
  | 'matmul'
  | 'conv2d'
  | 'conv2dBackInput'
  | 'conv2dBackWeight';

/**
 * Input ranges of the unary cases: raw is [-1, 1) with one exact zero, positive is [0.01, 1.01) and
 * wide is [-8, 8), which reaches the tails of softplus and sigmoid.
 */
export type UnaryDomain = 'raw' | 'positive' | 'wide';

/** Sums over trailing axes, or over leading or middle ones, which targets often sum in another order. */
export type SumAxes = 'trailing' | 'inner';

/** Op groups of the gradient cases. */
export type BackwardGroup = 'elementwise' | 'reduce' | 'movement' | 'contraction';

/**
 * A target's error bounds. A unary op may give one bound per input domain, and sum one per kind of
 * axes. A case without a bound is registered as skipped, because the target does not claim it.
 */
export interface OpBounds {
  forward: { [K in OpKey]: K extends UnaryOp ? Bound | Partial<Record<UnaryDomain, Bound>> : K extends 'sum' ? Bound | Record<SumAxes, Bound> : Bound };
  /** Gradient bounds per op group, with `ops` overriding them for single ops. */
  backward: { groups: Record<BackwardGroup, Bound>; ops?: Partial<Record<OpKey, Bound>> };
}

/** Case sizes: small runs everywhere, medium where kernels compile fast, large on the cpu target only. */
export type CaseSize = 'small' | 'medium' | 'large';

export interface OpSuiteOptions {
  /** The largest cases to run; small by default. */
  size?: CaseSize;
  /** Whether feeds may contain NaN and infinity; true by default. */
  nonFiniteFeeds?: boolean;
  /** Runs of the random-convolution property; 0, the default, leaves the property out. */
  randomConvolutionRuns?: number;
  /** Registers every case as skipped, for a target that cannot run here. */
  skip?: boolean;
}

interface ForwardCase {
  name: string;
  key: OpKey;
  variant?: UnaryDomain | SumAxes;
  size: CaseSize;
  nonFinite?: boolean;
  graph: () => Graph;
  feeds: (graph: Graph) => TensorMap;
  /** Terms per element of output `out`, for dot and sum bounds. */
  terms?: number;
}

const SIZES: CaseSize[] = ['small', 'medium', 'large'];
const SHAPE = [3, 5, 7];

const BINARY_OPS: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'greater'];
const UNARY_OPS: UnaryOp[] = ['neg', 'abs', 'sqrt', 'rsqrt', 'recip', 'square', 'lrelu', 'lreluGrad', 'exp', 'log', 'sign', 'softplus', 'sigmoid'];

/** Maps feeds in [-1, 1) to each unary domain inside the graph, so the feeds stay uniform. */
const DOMAINS: Record<UnaryDomain, { label: string; seed: number; map: (b: Builder, x: NodeId) => NodeId }> = {
  raw: { label: 'of values in [-1, 1)', seed: 12, map: (_, x) => x },
  positive: { label: 'of positive values', seed: 15, map: (b, x) => b.add(b.unary('abs', x), b.fill(SHAPE, 0.01)) },
  wide: { label: 'of values in [-8, 8)', seed: 14, map: (b, x) => b.mul(x, b.fill(SHAPE, 8)) },
};

function seeded(seed: number): (graph: Graph) => TensorMap {
  return (graph) => randomFeeds(graph, seed);
}

function elementwiseCases(): ForwardCase[] {
  const cases: ForwardCase[] = [];
  for (const op of BINARY_OPS) {
    cases.push({
      name: `binary ${op}`,
      key: op,
      size: 'small',
      graph: () => buildGraph({ a: SHAPE, b: SHAPE }, (b, x) => b.binary(op, x.a!, x.b!)),
      feeds: (graph) => {
        const feeds = randomFeeds(graph, 11);
        // Ties exercise the tie rule of max and min (b wins).
        feeds.b!.data.set(feeds.a!.data.subarray(0, 10), 0);
        return feeds;
      },
    });
  }
  for (const op of UNARY_OPS) {
    for (const [variant, domain] of Object.entries(DOMAINS) as [UnaryDomain, (typeof DOMAINS)[UnaryDomain]][]) {
      cases.push({
        name: `unary ${op} ${domain.label}`,
        key: op,
        variant,
        size: 'small',
        graph: () => buildGraph({ x: SHAPE }, (b, x) => b.unary(op, domain.map(b, x.x!), 0.2)),
        feeds: (graph) => {
          const feeds = randomFeeds(graph, domain.seed);
          feeds.x!.data[0] = 0;
          return feeds;
        },
      });
    }
  }
  cases.push(
    {
      name: 'select by a comparison',
      key: 'select',
      size: 'small',
      graph: () => buildGraph({ c: SHAPE, a: SHAPE, b: SHAPE }, (b, x) => b.select(b.binary('greater', x.c!, b.fill(SHAPE, 0)), x.a!, x.b!)),
      feeds: seeded(15),
    },
    {
      name: 'select on zero, signed zero and nonzero conditions',
      key: 'select',
      size: 'small',
      graph: () => buildGraph({ c: [9], a: [9], b: [9] }, (b, x) => b.select(x.c!, x.a!, x.b!)),
      feeds: (graph) => {
        const feeds = randomFeeds(graph, 18);
        feeds.c!.data.set([0, 3, -0, 1, 0, -2, 0, 5, 0]);
        return feeds;
      },
    },
    {
      name: 'select on NaN and infinite conditions',
      key: 'select',
      size: 'small',
      nonFinite: true,
      graph: () => buildGraph({ c: [9], a: [9], b: [9] }, (b, x) => b.select(x.c!, x.a!, x.b!)),
      feeds: (graph) => {
        const feeds = randomFeeds(graph, 16);
        feeds.c!.data.set([0, NaN, -0, 1, 0, -2, 0, Infinity, 0]);
        return feeds;
      },
    },
    {
      name: 'large elementwise chain',
      key: 'max',
      size: 'large',
      graph: () => buildGraph({ a: [4, 256, 256], b: [4, 256, 256] }, (b, x) => b.binary('max', b.mul(x.a!, x.b!), b.unary('neg', x.a!))),
      feeds: seeded(17),
    },
  );
  return cases;
}

function leafAndMovementCases(): ForwardCase[] {
  return [
    {
      name: 'fill, literal, param and reshape',
      key: 'leaf',
      size: 'small',
      graph: () =>
        buildGraph({ x: [2, 6] }, (b, x) => {
          const p = b.param('p', [3, 4]);
          const lit = b.literal([3, 4], [...Array(12).keys()]);
          return b.add(b.add(b.reshape(x.x!, [3, 4]), p), b.mul(lit, b.fill([3, 4], 0.5)));
        }),
      feeds: (graph) => {
        const feeds = randomFeeds(graph, 21);
        feeds.p = { shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) };
        return feeds;
      },
    },
    {
      name: 'permute, broadcast, pad, slice and flip',
      key: 'movement',
      size: 'small',
      graph: () =>
        buildGraph({ x: [2, 3, 4, 5], v: [1, 5, 1, 1] }, (b, x) => {
          const permuted = b.permute(x.x!, [0, 2, 3, 1]);
          const padded = b.pad(permuted, [0, 1, 0, 2], [1, 0, 2, 0], [0, 1, 1, 0]);
          const sliced = b.slice(padded, [0, 1, 1, 0], [3, 8, 11, 5], [2, 2, 3, 1]);
          const flipped = b.flip(sliced, [1, 3]);
          const broadcast = b.broadcastTo(b.permute(x.v!, [0, 2, 3, 1]), b.shape(flipped));
          return b.add(flipped, broadcast);
        }),
      feeds: seeded(22),
    },
    {
      name: 'randn of 3x33',
      key: 'randn',
      size: 'small',
      graph: () => buildGraph({ key: [] }, (b, x) => b.randn([3, 33], x.key!, 5)),
      feeds: () => ({ key: { shape: [], data: Float32Array.of(1234) } }),
    },
    {
      name: 'randn of 3x333',
      key: 'randn',
      size: 'small',
      graph: () => buildGraph({ key: [] }, (b, x) => b.randn([3, 333], x.key!, 5)),
      feeds: () => ({ key: { shape: [], data: Float32Array.of(1234) } }),
    },
    {
      name: 'randn fused with arithmetic',
      key: 'randn',
      size: 'small',
      graph: () => buildGraph({ key: [], x: [2, 8] }, (b, x) => b.add(b.mul(b.randn([2, 8], x.key!, 3), b.fill([2, 8], 0.5)), x.x!)),
      feeds: (graph) => {
        const feeds = randomFeeds(graph, 23);
        feeds.key = { shape: [], data: Float32Array.of(77) };
        return feeds;
      },
    },
  ];
}

function reductionCases(): ForwardCase[] {
  const sums: [Shape, number[], boolean, CaseSize][] = [
    [[4, 6, 9], [1, 2], true, 'small'],
    [[5, 1031], [1], true, 'small'],
    [[7, 3], [1], true, 'small'],
    [[7, 3], [0], true, 'small'],
    [[4, 6, 5], [0, 2], true, 'small'],
    [[4, 6, 5], [0, 2], false, 'small'],
    [[8, 64, 64], [1, 2], true, 'medium'],
    [[64, 64, 64], [1, 2], true, 'large'],
  ];
  const cases: ForwardCase[] = sums.map(([shape, axes, keepDims, size]) => {
    const trailing = axes.every((axis, i) => axis === shape.length - axes.length + i);
    return {
      name: `sum of ${shape.join('x')} over axes ${axes.join(', ')}${keepDims ? '' : ', dropping them'}`,
      key: 'sum',
      variant: trailing ? 'trailing' : 'inner',
      size,
      graph: () => buildGraph({ x: shape }, (b, x) => b.sum(x.x!, axes, keepDims)),
      feeds: seeded(31),
      terms: axes.reduce((n, axis) => n * shape[axis]!, 1),
    };
  });
  cases.push(
    {
      name: 'max of 4x6x5 over axes 0, 2',
      key: 'reduceMax',
      size: 'small',
      graph: () => buildGraph({ x: [4, 6, 5] }, (b, x) => b.reduce('max', x.x!, [0, 2])),
      feeds: seeded(32),
    },
    {
      name: 'max over a NaN',
      key: 'reduceMax',
      size: 'small',
      nonFinite: true,
      graph: () => buildGraph({ x: [4, 6, 5] }, (b, x) => b.reduce('max', x.x!, [0, 2])),
      feeds: (graph) => {
        const feeds = randomFeeds(graph, 34);
        feeds.x!.data[7] = NaN;
        return feeds;
      },
    },
  );
  return cases;
}

function matmulCases(): ForwardCase[] {
  const shapes: [Shape, Shape, CaseSize][] = [
    [[5, 7], [7, 13], 'small'],
    [[3, 4, 9], [3, 9, 8], 'small'],
    [[1, 1], [1, 1], 'small'],
    [[4, 128], [128, 32], 'small'],
    [[16, 128], [128, 128], 'medium'],
    [[2, 96, 256], [2, 256, 160], 'medium'],
  ];
  return shapes.map(([a, b, size]) => ({
    name: `matmul ${a.join('x')} by ${b.join('x')}`,
    key: 'matmul',
    size,
    graph: () => buildGraph({ a, b }, (builder, x) => builder.matmul(x.a!, x.b!)),
    feeds: seeded(41),
    terms: a[a.length - 1]!,
  }));
}

type ConvKey = 'conv2d' | 'conv2dBackInput' | 'conv2dBackWeight';

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  attrs: ConvAttrs;
}

const CONV_CASES: (ConvCase & { size: CaseSize })[] = [
  { name: '3x3 padding 1', x: [2, 8, 9, 9], w: [12, 8, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 1 }, size: 'small' },
  { name: 'stride 2, asymmetric padding, 2 groups', x: [3, 6, 9, 8], w: [10, 3, 3, 2], attrs: { stride: 2, padding: [1, 0, 2, 1], groups: 2 }, size: 'small' },
  // Output rows of 8 pixels: the cpu target's im2col copies four pixels at a time at stride 2,
  // and the left padding of 2 puts the first four partly outside the image.
  { name: 'stride 2, 4x4 taps, rows of 8', x: [2, 4, 16, 16], w: [6, 4, 4, 4], attrs: { stride: 2, padding: [1, 1, 2, 1], groups: 1 }, size: 'small' },
  { name: 'depthwise 3x3 (blur)', x: [2, 5, 7, 7], w: [5, 1, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 5 }, size: 'small' },
  { name: 'depthwise stride 2', x: [2, 4, 8, 8], w: [4, 1, 2, 2], attrs: { stride: 2, padding: [0, 0, 0, 0], groups: 4 }, size: 'small' },
  { name: '1x1 (toRGB)', x: [3, 16, 4, 4], w: [1, 16, 1, 1], attrs: { stride: 1, padding: [0, 0, 0, 0], groups: 1 }, size: 'small' },
  { name: '1x1 from one channel (fromRGB)', x: [2, 1, 8, 8], w: [16, 1, 1, 1], attrs: { stride: 1, padding: [0, 0, 0, 0], groups: 1 }, size: 'small' },
  { name: 'stride 3, kernel larger than padding', x: [1, 3, 10, 11], w: [5, 3, 4, 3], attrs: { stride: 3, padding: [2, 1, 0, 2], groups: 1 }, size: 'small' },
  { name: '3x3 at 32x32 with 32 channels', x: [2, 32, 32, 32], w: [32, 32, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 1 }, size: 'medium' },
  { name: 'depthwise 3x3 at 32x32', x: [4, 16, 32, 32], w: [16, 1, 3, 3], attrs: { stride: 1, padding: [1, 1, 1, 1], groups: 16 }, size: 'large' },
];

/**
 * Products per output element: conv2d sums C/g * KH * KW, conv2dBackInput at most CO/g * KH * KW
 * (fewer near the border or with a stride) and conv2dBackWeight N * OH * OW.
 */
export function convTerms(c: ConvCase): Record<ConvKey, number> {
  const y = conv2dShape(c.x, c.w, c.attrs);
  return {
    conv2d: c.w[1] * c.w[2] * c.w[3],
    conv2dBackInput: (c.w[0] / c.attrs.groups) * c.w[2] * c.w[3],
    conv2dBackWeight: c.x[0] * y[2]! * y[3]!,
  };
}

/** Builds conv2d and its two transposes for one case. */
export function convGraphs(c: ConvCase): Record<ConvKey, Graph> {
  const y = conv2dShape(c.x, c.w, c.attrs);
  return {
    conv2d: buildGraph({ x: c.x, w: c.w }, (b, v) => b.conv2d(v.x!, v.w!, c.attrs)),
    conv2dBackInput: buildGraph({ dy: y, w: c.w }, (b, v) => b.conv2dBackInput(v.dy!, v.w!, c.attrs, c.x)),
    conv2dBackWeight: buildGraph({ x: c.x, dy: y }, (b, v) => b.conv2dBackWeight(v.x!, v.dy!, c.attrs, c.w)),
  };
}

const CONV_KEYS: ConvKey[] = ['conv2d', 'conv2dBackInput', 'conv2dBackWeight'];

function convCases(): ForwardCase[] {
  const seeds: Record<ConvKey, number> = { conv2d: 51, conv2dBackInput: 52, conv2dBackWeight: 53 };
  return CONV_CASES.flatMap((c) =>
    CONV_KEYS.map((key) => ({
      name: `${key} ${c.name}`,
      key,
      size: c.size,
      graph: () => convGraphs(c)[key],
      feeds: seeded(seeds[key]),
      terms: convTerms(c)[key],
    })),
  );
}

const FORWARD_CASES: ForwardCase[] = [...elementwiseCases(), ...leafAndMovementCases(), ...reductionCases(), ...matmulCases(), ...convCases()];

function forwardBound(bounds: OpBounds, c: ForwardCase): Bound | undefined {
  const entry: Bound | Partial<Record<string, Bound>> = bounds.forward[c.key];
  if ('kind' in entry && typeof entry.kind === 'string') return entry as Bound;
  if (c.variant === undefined) throw new Error(`case '${c.name}' has no variant, but the bound of ${c.key} is given per variant`);
  return (entry as Partial<Record<string, Bound>>)[c.variant];
}

interface BackwardCase {
  name: string;
  key: OpKey;
  group: BackwardGroup;
  inputs: Record<string, Shape>;
  /** The inputs to differentiate with respect to; the others are held fixed. */
  wrt: string[];
  build: (b: Builder, x: Record<string, NodeId>) => NodeId;
  /** Adjusts the default feeds, magnitudes in [0.1, 1) with random signs, which keep clear of kinks. */
  adjust?: (feeds: TensorMap) => void;
  /** Terms per element of each gradient, by input name, for dot and sum bounds. */
  terms?: Record<string, number>;
}

const STEP = 1e-3;

function backwardCases(): BackwardCase[] {
  const cases: BackwardCase[] = [];
  const awayFromZero = (feeds: TensorMap, name: string): void => {
    feeds[name]!.data.forEach((v, i, data) => (data[i] = Math.sign(v) * (0.5 + Math.abs(v))));
  };
  for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as const) {
    cases.push({
      name: `gradient of binary ${op}`,
      key: op,
      group: 'elementwise',
      inputs: { a: SHAPE, b: SHAPE },
      wrt: ['a', 'b'],
      build: (b, x) => b.binary(op, x.a!, x.b!),
      adjust: (feeds) => {
        if (op === 'div') awayFromZero(feeds, 'b');
        // b = -a / 2 keeps max and min at least 0.15 away from their switch point.
        if (op === 'max' || op === 'min') feeds.b!.data.forEach((_, i, data) => (data[i] = -feeds.a!.data[i]! / 2));
      },
    });
  }
  const positiveOnly = new Set<UnaryOp>(['sqrt', 'rsqrt', 'log']);
  for (const op of ['neg', 'abs', 'sqrt', 'rsqrt', 'recip', 'square', 'lrelu', 'exp', 'log', 'softplus', 'sigmoid'] as const) {
    cases.push({
      name: `gradient of unary ${op}`,
      key: op,
      group: 'elementwise',
      inputs: { x: SHAPE },
      wrt: ['x'],
      build: (b, x) => b.unary(op, x.x!, 0.2),
      adjust: (feeds) => {
        if (positiveOnly.has(op)) feeds.x!.data.forEach((v, i, data) => (data[i] = 0.5 + Math.abs(v)));
        if (op === 'recip') awayFromZero(feeds, 'x');
      },
    });
  }
  cases.push(
    {
      name: 'gradient of select',
      key: 'select',
      group: 'elementwise',
      inputs: { c: SHAPE, a: SHAPE, b: SHAPE },
      wrt: ['a', 'b'],
      build: (b, x) => b.select(b.binary('greater', x.c!, b.fill(SHAPE, 0)), x.a!, x.b!),
    },
    {
      name: 'gradient of sum over axes 0, 2',
      key: 'sum',
      group: 'reduce',
      inputs: { x: [4, 6, 5] },
      wrt: ['x'],
      build: (b, x) => b.sum(x.x!, [0, 2]),
      terms: { x: 1 },
    },
    {
      name: 'gradient of max over axes 0, 2',
      key: 'reduceMax',
      group: 'reduce',
      inputs: { x: [4, 6, 5] },
      wrt: ['x'],
      build: (b, x) => b.reduce('max', x.x!, [0, 2]),
      // Distinct values 0.05 apart, shuffled, so no step moves the maximum to another element.
      adjust: (feeds) => {
        const next = uniformSource(35);
        const values = Array.from({ length: 120 }, (_, i) => (i - 60) * 0.05);
        for (let i = values.length - 1; i > 0; i--) {
          const j = Math.floor(next(0, i + 1));
          [values[i], values[j]] = [values[j]!, values[i]!];
        }
        feeds.x!.data.set(values);
      },
      terms: { x: 1 },
    },
    {
      name: 'gradient of movement ops',
      key: 'movement',
      group: 'movement',
      inputs: { x: [2, 3, 4, 5], v: [1, 5, 1, 1] },
      wrt: ['x', 'v'],
      build: (b, x) => {
        const padded = b.pad(b.permute(x.x!, [0, 2, 3, 1]), [0, 1, 0, 2], [1, 0, 2, 0], [0, 1, 1, 0]);
        const flipped = b.flip(b.slice(padded, [0, 1, 1, 0], [3, 8, 11, 5], [2, 2, 3, 1]), [1, 3]);
        const broadcast = b.broadcastTo(b.permute(x.v!, [0, 2, 3, 1]), b.shape(flipped));
        return b.reshape(b.add(flipped, broadcast), [numel(b.shape(flipped))]);
      },
      // The gradient of a broadcast sums over the 2 * 4 * 4 elements that each element of v feeds.
      terms: { x: 1, v: 32 },
    },
    {
      name: 'gradient of matmul',
      key: 'matmul',
      group: 'contraction',
      inputs: { a: [3, 4], b: [4, 5] },
      wrt: ['a', 'b'],
      build: (b, x) => b.matmul(x.a!, x.b!),
      // da = dy b^T sums over the 5 columns, db = a^T dy over the 3 rows.
      terms: { a: 5, b: 3 },
    },
    {
      name: 'gradient of conv2d',
      key: 'conv2d',
      group: 'contraction',
      inputs: { x: [2, 4, 7, 7], w: [6, 2, 3, 3] },
      wrt: ['x', 'w'],
      build: (b, x) => b.conv2d(x.x!, x.w!, { stride: 2, padding: [1, 1, 1, 1], groups: 2 }),
      // dx sums at most CO/g * KH * KW = 27 products, dw N * OH * OW = 2 * 4 * 4.
      terms: { x: 27, w: 32 },
    },
  );
  return cases;
}

const BACKWARD_CASES = backwardCases();

/**
 * Builds the forward graph, with output `out`, and the gradient graph, which takes the adjoint as
 * input `dy` and has one output per `wrt` input, named after it.
 */
function backwardGraphs(c: BackwardCase): { forward: Graph; gradient: Graph } {
  const forward = buildGraph(c.inputs, c.build);
  const b = new Builder();
  const ids: Record<string, NodeId> = {};
  for (const [name, shape] of Object.entries(c.inputs)) ids[name] = b.input(name, shape);
  const y = c.build(b, ids);
  const dy = b.input('dy', b.shape(y));
  const grads = gradients(
    b,
    y,
    c.wrt.map((name) => ids[name]!),
    dy,
  );
  c.wrt.forEach((name, i) => b.output(name, grads[i]!));
  verifyGraph(b.graph);
  return { forward, gradient: b.graph };
}

function backwardFeeds(c: BackwardCase, graph: Graph, seed: number): TensorMap {
  const next = uniformSource(seed);
  const feeds: TensorMap = {};
  for (const [name, id] of graph.inputs()) {
    const shape = [...graph.shape(id)];
    const data = Float32Array.from({ length: numel(shape) }, () => {
      const magnitude = next(0.1, 1);
      return next(0, 1) < 0.5 ? -magnitude : magnitude;
    });
    feeds[name] = { shape, data };
  }
  c.adjust?.(feeds);
  return feeds;
}

/** Returns sum(out * dy) in float64 from the target's forward run. */
async function projectedLoss(target: OpTarget, forward: Graph, feeds: TensorMap, dy: Float32Array): Promise<number> {
  const out = (await target.run(forward, feeds)).out!.data;
  let loss = 0;
  for (let i = 0; i < out.length; i++) loss += out[i]! * dy[i]!;
  return loss;
}

/**
 * Checks the target's gradient g along one direction v against the central difference
 * (L(x + h v) - L(x - h v)) / 2h of L = sum(out * dy) on the target's own forward run. One direction
 * costs two forward runs, which keeps the check cheap on slow targets. Feeds stay at least 0.1 from
 * every kink and h = 1e-3, so each step stays on one smooth branch. The tolerance is 1e-3 of
 * g . v, which v's signs make equal to sum |g v|. The largest error measured on the cpu, wgsl and
 * webgl targets (llvmpipe for both GPU targets) was 2e-5 of it, and a gradient off by 0.1% fails.
 */
async function expectFiniteDifference(target: OpTarget, c: BackwardCase, forward: Graph, feeds: TensorMap, grads: TensorMap): Promise<void> {
  const next = uniformSource(97);
  const dy = feeds.dy!.data;
  const plus: TensorMap = {};
  const minus: TensorMap = {};
  let directional = 0;
  let scale = 0;
  for (const name of Object.keys(c.inputs)) {
    const x = feeds[name]!;
    if (!c.wrt.includes(name)) {
      plus[name] = x;
      minus[name] = x;
      continue;
    }
    const g = grads[name]!.data;
    // v follows the signs of g, so the terms of g . v cannot cancel.
    const v = Float32Array.from(g, (gi) => (gi < 0 ? -1 : 1) * next(0.1, 1));
    plus[name] = { shape: x.shape, data: x.data.map((value, i) => value + STEP * v[i]!) };
    minus[name] = { shape: x.shape, data: x.data.map((value, i) => value - STEP * v[i]!) };
    for (let i = 0; i < v.length; i++) {
      directional += g[i]! * v[i]!;
      scale += Math.abs(g[i]! * v[i]!);
    }
  }
  const difference = ((await projectedLoss(target, forward, plus, dy)) - (await projectedLoss(target, forward, minus, dy))) / (2 * STEP);
  const tolerance = 1e-3 * scale;
  expect(Math.abs(directional - difference), `gradient along v ${directional}, finite difference ${difference}`).toBeLessThanOrEqual(tolerance);
}

/** Random convolutions and both transposes, each within the dot-product bound. */
async function checkRandomConvolutions(target: OpTarget, bounds: OpBounds, runs: number): Promise<void> {
  const arb = fc
    .record({
      n: fc.integer({ min: 1, max: 3 }),
      groups: fc.constantFrom(1, 2, 3),
      cPerGroup: fc.constantFrom(1, 2, 3, 5, 8),
      coPerGroup: fc.constantFrom(1, 2, 4, 5, 9),
      h: fc.integer({ min: 1, max: 9 }),
      w: fc.integer({ min: 1, max: 9 }),
      kh: fc.integer({ min: 1, max: 3 }),
      kw: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 3 }),
      padding: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
      seed: fc.integer({ min: 1, max: 2 ** 31 }),
    })
    .filter((c) => c.h + c.padding[0] + c.padding[1] >= c.kh && c.w + c.padding[2] + c.padding[3] >= c.kw);
  await fc.assert(
    fc.asyncProperty(arb, async (r) => {
      const c: ConvCase = {
        name: 'random',
        x: [r.n, r.groups * r.cPerGroup, r.h, r.w],
        w: [r.groups * r.coPerGroup, r.cPerGroup, r.kh, r.kw],
        attrs: { stride: r.stride, padding: r.padding, groups: r.groups },
      };
      const graphs = convGraphs(c);
      const terms = convTerms(c);
      for (const [offset, key] of CONV_KEYS.entries()) {
        const feeds = randomFeeds(graphs[key], r.seed + offset);
        await expectWithinBound((graph, feeds) => target.run(graph, feeds), graphs[key], feeds, bounds.forward[key], { terms: { out: terms[key] } });
      }
    }),
    { numRuns: runs },
  );
}

/**
 * Registers the op suite for `target` with vitest: one case per op and input kind forward, one per
 * small op backward (reference comparison and finite differences), and the invalid-feed errors.
 */
export function defineOpSuite(target: OpTarget, bounds: OpBounds, options: OpSuiteOptions = {}): void {
  const maxSize = SIZES.indexOf(options.size ?? 'small');
  const nonFiniteFeeds = options.nonFiniteFeeds ?? true;
  const run = (graph: Graph, feeds: TensorMap): Promise<TensorMap> => target.run(graph, feeds);

  describe.skipIf(options.skip === true)(`${target.name} op suite`, () => {
    describe('forward', () => {
      for (const c of FORWARD_CASES) {
        if (SIZES.indexOf(c.size) > maxSize || (c.nonFinite === true && !nonFiniteFeeds)) continue;
        const bound = forwardBound(bounds, c);
        if (bound === undefined) {
          it.skip(`${c.name} (no bound claimed on ${target.name})`, () => {});
          continue;
        }
        it(c.name, async () => {
          const graph = c.graph();
          await expectWithinBound(run, graph, c.feeds(graph), bound, c.terms === undefined ? {} : { terms: { out: c.terms } });
        });
      }

      if ((options.randomConvolutionRuns ?? 0) > 0) {
        it('random convolutions and both transposes', async () => {
          await checkRandomConvolutions(target, bounds, options.randomConvolutionRuns!);
        });
      }
    });

    describe('backward', () => {
      for (const [index, c] of BACKWARD_CASES.entries()) {
        it(c.name, async () => {
          const { forward, gradient } = backwardGraphs(c);
          const feeds = backwardFeeds(c, gradient, 60 + index);
          const expected = runGraph(gradient, feeds);
          const actual = await target.run(gradient, feeds);
          const bound = bounds.backward.ops?.[c.key] ?? bounds.backward.groups[c.group];
          expect(boundFailures(gradient, feeds, actual, expected, bound, { terms: c.terms })).toEqual([]);

          await expectFiniteDifference(target, c, forward, feeds, actual);
        });
      }
    });

    describe('feeds', () => {
      it('invalid and missing feeds are reported by name', async () => {
        const graph = buildGraph({ x: [2, 3] }, (b, x) => b.unary('neg', x.x!));
        await expect(target.run(graph, { x: { shape: [3, 2], data: new Float32Array(6) } })).rejects.toThrow(
          "invalid feed for input 'x': expected shape [2, 3]",
        );
        await expect(target.run(graph, {})).rejects.toThrow("missing feed for input 'x'");
      });
    });
  });
}
