// Tiled contraction kernels. Every contraction is a batch of matrix products C[g] = A[g] B[g]:
// matmul directly, and the convolutions as implicit GEMMs whose operand elements are computed from
// the tensor indices (zero outside the image). A strided conv2dBackInput is one product per output
// pixel phase, over the taps that reach that phase. A workgroup of 64 invocations computes one
// tile x tile block of C, and each invocation a per x per square of it. Slices of A and B, TILE_K
// deep, are staged in workgroup memory, so each operand element passes through its prologue once
// per block instead of once per output. The epilogue runs on the accumulated values before the
// store.

import { assertNever } from '../../src/ir/graph.ts';
import type { Kernel, KernelExpr } from '../../src/kernel/kernel.ts';
import type { TargetLimits } from '../../src/opt/index.ts';
import { epilogueOf, functionRoots } from './expressions.ts';
import { u32Literal } from './literals.ts';

type ContractionExpr = Extract<KernelExpr, { kind: 'matmul' | 'conv2d' | 'conv2dBackInput' | 'conv2dBackWeight' }>;

/** One batch of matrix products, with WGSL bodies that read A(g, r, k), B(g, k, c) and place C(g, r, c). */
export interface Gemm {
  groups: number;
  m: number;
  n: number;
  k: number;
  /** Statements that return A's element for u32 values g, r and k, known to be in range. */
  loadA: string[];
  loadB: string[];
  /** A u32 expression: the flat output index of C's element (g, r, c). */
  outIndex: string;
  /** Statements before outIndex that define what it reads, for u32 values g, r and c. */
  outLines?: string[];
  /** A bool expression over the outLines values: whether (g, r, c) is an output element at all. */
  outValid?: string;
}

export interface TiledPlan {
  contraction: number;
  gemm: Gemm;
  /** Rows and columns of C per workgroup. */
  tile: number;
  /** Rows and columns of C per invocation. */
  per: number;
  tileK: number;
  workgroups: [number, number, number];
}

/** Invocations per tiled workgroup, an 8 x 8 grid. WebGPU guarantees 128 even in compatibility mode. */
const INVOCATIONS = 64;
const SIDE = 8;
const TILE_K = 16;

/** The out_index result for an element of C that is no output (a phase row past the image). */
const NO_OUTPUT = '0xffffffffu';

/**
 * Returns the tiled plan of a contraction kernel, or null when the kernel keeps the loop with one
 * invocation per element. That happens for products too small to fill a tile (depthwise blur,
 * toRGB, the mapping network at small batches) and for epilogues that read the contraction at
 * another index.
 */
export function tiledPlan(kernel: Kernel, limits: TargetLimits): TiledPlan | null {
  if (kernel.kind !== 'contraction' || limits.maxInvocations < INVOCATIONS) return null;
  const contractions = kernel.exprs.flatMap((expr, index) => (isContraction(expr) ? [index] : []));
  if (contractions.length !== 1) return null;
  const contraction = contractions[0]!;
  const epilogue = epilogueOf(kernel, contraction);
  const roots = functionRoots(kernel);
  const outputs = new Set(kernel.outputs.map((output) => output.expr));
  // Only outputs may contain the contraction, because any other function would evaluate it at a mapped index.
  for (const root of roots) if (epilogue.has(root) && !outputs.has(root)) return null;
  const gemm = gemmOf(kernel, kernel.exprs[contraction] as ContractionExpr);
  if (gemm.m < 16 || gemm.n < 16 || gemm.k < 8) return null;
  const tile = gemm.m >= 32 && gemm.n >= 32 ? 32 : 16;
  const bytes = 4 * 2 * tile * TILE_K;
  if (bytes > limits.maxWorkgroupBytes) return null;
  const groups = gemm.groups * Math.ceil(gemm.m / tile) * Math.ceil(gemm.n / tile);
  const max = limits.maxWorkgroupsPerDimension;
  const x = Math.min(groups, max);
  const y = Math.ceil(groups / max);
  if (y > max) return null;
  return { contraction, gemm, tile, per: tile / SIDE, tileK: TILE_K, workgroups: [x, y, 1] };
}

function isContraction(expr: KernelExpr): expr is ContractionExpr {
  return expr.kind === 'matmul' || expr.kind === 'conv2d' || expr.kind === 'conv2dBackInput' || expr.kind === 'conv2dBackWeight';
}

/** Decomposes a u32 `value` over `sizes` (row-major) into `let` statements named `names`. */
function split(value: string, names: string[], sizes: number[]): string[] {
  const lines: string[] = [];
  let stride = sizes.reduce((p, d) => p * d, 1);
  names.forEach((name, axis) => {
    stride /= sizes[axis]!;
    const divided = stride === 1 ? value : `(${value} / ${u32Literal(stride)})`;
    lines.push(`let ${name} = ${axis === 0 ? divided : `${divided} % ${u32Literal(sizes[axis]!)}`};`);
  });
  return lines;
}

function gemmOf(kernel: Kernel, expr: ContractionExpr): Gemm {
  const shapeOf = (id: number): readonly number[] => kernel.exprs[id]!.shape;
  switch (expr.kind) {
    case 'matmul': {
      const sa = shapeOf(expr.a);
      const m = sa[sa.length - 2]!;
      const k = sa[sa.length - 1]!;
      const n = shapeOf(expr.b).at(-1)!;
      return {
        groups: kernel.exprs[expr.a]!.shape.slice(0, -2).reduce((p, d) => p * d, 1),
        m,
        n,
        k,
        loadA: [`return expr${expr.a}(g * ${u32Literal(m * k)} + r * ${u32Literal(k)} + k);`],
        loadB: [`return expr${expr.b}(g * ${u32Literal(k * n)} + k * ${u32Literal(n)} + c);`],
        outIndex: `g * ${u32Literal(m * n)} + r * ${u32Literal(n)} + c`,
      };
    }
    case 'conv2d': {
      const [batch, channels, h, w] = shapeOf(expr.x) as [number, number, number, number];
      const [co, cpg, kh, kw] = shapeOf(expr.w) as [number, number, number, number];
      const [, , oh, ow] = expr.shape as [number, number, number, number];
      const copg = co / expr.attrs.groups;
      const { stride } = expr.attrs;
      const [top, , left] = expr.attrs.padding;
      const taps = cpg * kh * kw;
      return {
        groups: expr.attrs.groups,
        m: copg,
        n: batch * oh * ow,
        k: taps,
        loadA: [`return expr${expr.w}((g * ${u32Literal(copg)} + r) * ${u32Literal(taps)} + k);`],
        loadB: [
          ...split('k', ['ci', 'ky', 'kx'], [cpg, kh, kw]),
          ...split('c', ['n', 'oy', 'ox'], [batch, oh, ow]),
          `let iy = i32(oy * ${u32Literal(stride)} + ky) - ${top};`,
          `let ix = i32(ox * ${u32Literal(stride)} + kx) - ${left};`,
          `if (iy < 0 || iy >= ${h} || ix < 0 || ix >= ${w}) { return 0.0; }`,
          `return expr${expr.x}(((n * ${u32Literal(channels)} + g * ${u32Literal(cpg)} + ci) * ${u32Literal(h)} + u32(iy)) * ${u32Literal(w)} + u32(ix));`,
        ],
        outIndex: `((c / ${u32Literal(oh * ow)}) * ${u32Literal(co)} + g * ${u32Literal(copg)} + r) * ${u32Literal(oh * ow)} + c % ${u32Literal(oh * ow)}`,
      };
    }
    case 'conv2dBackInput': {
      if (expr.attrs.stride > 1) return phasedBackInput(expr, shapeOf(expr.dy), shapeOf(expr.w));
      const [batch, co, oh, ow] = shapeOf(expr.dy) as [number, number, number, number];
      const [, cpg, kh, kw] = shapeOf(expr.w) as [number, number, number, number];
      const [, channels, h, w] = expr.shape as [number, number, number, number];
      const copg = co / expr.attrs.groups;
      const { stride } = expr.attrs;
      const [top, , left] = expr.attrs.padding;
      return {
        groups: expr.attrs.groups,
        m: cpg,
        n: batch * h * w,
        k: copg * kh * kw,
        loadA: [
          ...split('k', ['o', 'ky', 'kx'], [copg, kh, kw]),
          `return expr${expr.w}((((g * ${u32Literal(copg)} + o) * ${u32Literal(cpg)} + r) * ${u32Literal(kh)} + ky) * ${u32Literal(kw)} + kx);`,
        ],
        loadB: [
          ...split('k', ['o', 'ky', 'kx'], [copg, kh, kw]),
          ...split('c', ['n', 'iy', 'ix'], [batch, h, w]),
          `let ty = i32(iy + ${u32Literal(top)}) - i32(ky);`,
          `let tx = i32(ix + ${u32Literal(left)}) - i32(kx);`,
          `if (ty < 0 || tx < 0 || ty % ${stride} != 0 || tx % ${stride} != 0 || ty / ${stride} >= ${oh} || tx / ${stride} >= ${ow}) { return 0.0; }`,
          `return expr${expr.dy}(((n * ${u32Literal(co)} + g * ${u32Literal(copg)} + o) * ${u32Literal(oh)} + u32(ty / ${stride})) * ${u32Literal(ow)} + u32(tx / ${stride}));`,
        ],
        outIndex: `((c / ${u32Literal(h * w)}) * ${u32Literal(channels)} + g * ${u32Literal(cpg)} + r) * ${u32Literal(h * w)} + c % ${u32Literal(h * w)}`,
      };
    }
    case 'conv2dBackWeight': {
      const [batch, channels, h, w] = shapeOf(expr.x) as [number, number, number, number];
      const [, co, oh, ow] = shapeOf(expr.dy) as [number, number, number, number];
      const [, cpg, kh, kw] = expr.shape as [number, number, number, number];
      const copg = co / expr.attrs.groups;
      const { stride } = expr.attrs;
      const [top, , left] = expr.attrs.padding;
      const taps = cpg * kh * kw;
      return {
        groups: expr.attrs.groups,
        m: copg,
        n: taps,
        k: batch * oh * ow,
        loadA: [
          ...split('k', ['n', 'oy', 'ox'], [batch, oh, ow]),
          `return expr${expr.dy}(((n * ${u32Literal(co)} + g * ${u32Literal(copg)} + r) * ${u32Literal(oh)} + oy) * ${u32Literal(ow)} + ox);`,
        ],
        loadB: [
          ...split('k', ['n', 'oy', 'ox'], [batch, oh, ow]),
          ...split('c', ['ci', 'ky', 'kx'], [cpg, kh, kw]),
          `let iy = i32(oy * ${u32Literal(stride)} + ky) - ${top};`,
          `let ix = i32(ox * ${u32Literal(stride)} + kx) - ${left};`,
          `if (iy < 0 || iy >= ${h} || ix < 0 || ix >= ${w}) { return 0.0; }`,
          `return expr${expr.x}(((n * ${u32Literal(channels)} + g * ${u32Literal(cpg)} + ci) * ${u32Literal(h)} + u32(iy)) * ${u32Literal(w)} + u32(ix));`,
        ],
        outIndex: `(g * ${u32Literal(copg)} + r) * ${u32Literal(taps)} + c`,
      };
    }
    default:
      return assertNever(expr);
  }
}

/**
 * Returns a strided conv2dBackInput as one product per group and output pixel phase. Only the taps
 * ky = ry + s * jy reach an output row iy with (iy + top) % s = ry (columns alike), so each phase
 * sums over its own taps instead of multiplying the zeros between them. Phases own rows
 * first_y, first_y + s, ... of the output, and a row of C past the image height is no output.
 */
function phasedBackInput(expr: Extract<KernelExpr, { kind: 'conv2dBackInput' }>, dys: readonly number[], ws: readonly number[]): Gemm {
  const [batch, co, oh, ow] = dys as [number, number, number, number];
  const [, cpg, kh, kw] = ws as [number, number, number, number];
  const [, channels, h, w] = expr.shape as [number, number, number, number];
  const copg = co / expr.attrs.groups;
  const s = expr.attrs.stride;
  const [top, , left] = expr.attrs.padding;
  const tapsY = Math.ceil(kh / s);
  const tapsX = Math.ceil(kw / s);
  const rowsY = Math.ceil(h / s);
  const rowsX = Math.ceil(w / s);
  // The first output row of phase ry is (ry - top) mod s, written with a positive offset for u32.
  const offsetY = s * (Math.floor(top / s) + 1) - top;
  const offsetX = s * (Math.floor(left / s) + 1) - left;
  const phase = [
    `let group = g / ${u32Literal(s * s)};`,
    `let ry = (g % ${u32Literal(s * s)}) / ${u32Literal(s)};`,
    `let rx = g % ${u32Literal(s)};`,
  ];
  const taps = [...split('k', ['o', 'jy', 'jx'], [copg, tapsY, tapsX]), `let ky = ry + jy * ${u32Literal(s)};`, `let kx = rx + jx * ${u32Literal(s)};`];
  const pixel = [
    ...split('c', ['n', 'py', 'px'], [batch, rowsY, rowsX]),
    `let iy = (ry + ${u32Literal(offsetY)}) % ${u32Literal(s)} + py * ${u32Literal(s)};`,
    `let ix = (rx + ${u32Literal(offsetX)}) % ${u32Literal(s)} + px * ${u32Literal(s)};`,
  ];
  return {
    groups: expr.attrs.groups * s * s,
    m: cpg,
    n: batch * rowsY * rowsX,
    k: copg * tapsY * tapsX,
    loadA: [
      ...phase,
      ...taps,
      `if (ky >= ${u32Literal(kh)} || kx >= ${u32Literal(kw)}) { return 0.0; }`,
      `return expr${expr.w}((((group * ${u32Literal(copg)} + o) * ${u32Literal(cpg)} + r) * ${u32Literal(kh)} + ky) * ${u32Literal(kw)} + kx);`,
    ],
    loadB: [
      ...phase,
      ...taps,
      ...pixel,
      `if (ky >= ${u32Literal(kh)} || kx >= ${u32Literal(kw)} || iy >= ${u32Literal(h)} || ix >= ${u32Literal(w)}) { return 0.0; }`,
      // iy + top - ky is a multiple of s by the choice of phase, so the division is exact.
      `let ty = i32(iy + ${u32Literal(top)}) - i32(ky);`,
      `let tx = i32(ix + ${u32Literal(left)}) - i32(kx);`,
      `if (ty < 0 || tx < 0 || ty / ${s} >= ${oh} || tx / ${s} >= ${ow}) { return 0.0; }`,
      `return expr${expr.dy}(((n * ${u32Literal(co)} + group * ${u32Literal(copg)} + o) * ${u32Literal(oh)} + u32(ty / ${s})) * ${u32Literal(ow)} + u32(tx / ${s}));`,
    ],
    outLines: [...phase, ...pixel],
    outValid: `iy < ${u32Literal(h)} && ix < ${u32Literal(w)}`,
    outIndex: `((n * ${u32Literal(channels)} + group * ${u32Literal(cpg)} + r) * ${u32Literal(h)} + iy) * ${u32Literal(w)} + ix`,
  };
}

/** Emits the operand loaders, the workgroup tiles and the entry point of a tiled kernel. */
export function tiledSections(kernel: Kernel, plan: TiledPlan, store: (output: number, index: string, value: string) => string): string[] {
  const { gemm, tile, per, tileK } = plan;
  const tilesM = Math.ceil(gemm.m / tile);
  const tilesN = Math.ceil(gemm.n / tile);
  const loader = (name: string, first: string, second: string, rows: number, columns: number, body: string[]): string =>
    [
      `fn ${name}(g: u32, ${first}: u32, ${second}: u32) -> f32 {`,
      `  if (${first} >= ${u32Literal(rows)} || ${second} >= ${u32Literal(columns)}) { return 0.0; }`,
      ...body.map((line) => `  ${line}`),
      '}',
    ].join('\n');
  const memory = [
    `// A slice stored k-major ([TILE_K][${tile}]) and a B slice ([TILE_K][${tile}]), ${8 * tile * tileK} bytes together.`,
    `var<workgroup> tile_a: array<f32, ${tile * tileK}>;`,
    `var<workgroup> tile_b: array<f32, ${tile * tileK}>;`,
  ].join('\n');
  const range = [...Array(per).keys()];
  const pairs = range.flatMap((i) => range.map((j) => [i, j] as const));
  const inEpilogue = epilogueOf(kernel, plan.contraction);
  const stores = pairs.flatMap(([i, j]) => {
    const lines = [
      `  if (row0 + local_row + ${i}u < ${u32Literal(gemm.m)} && col0 + local_col + ${j}u < ${u32Literal(gemm.n)}) {`,
      `    let r = row0 + local_row + ${i}u;`,
      `    let c = col0 + local_col + ${j}u;`,
      '    let index = out_index(g, r, c);',
      `    if (index != ${NO_OUTPUT}) {`,
    ];
    kernel.outputs.forEach((output, k) => {
      const value = inEpilogue.has(output.expr) ? `expr${output.expr}(index, acc_${i}_${j})` : `expr${output.expr}(index)`;
      lines.push(`      ${store(k, 'index', value)}`);
    });
    lines.push('    }', '  }');
    return lines;
  });
  // The per-invocation block is unrolled into scalars, which stay in registers where a private
  // array indexed in a loop may not.
  const entry = [
    `@compute @workgroup_size(${INVOCATIONS})`,
    'fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) local: u32) {',
    `  let group = workgroup.x + workgroup.y * ${u32Literal(plan.workgroups[0])};`,
    // The workgroup index is uniform, so this return keeps the barriers below in uniform control flow.
    `  if (group >= ${u32Literal(gemm.groups * tilesM * tilesN)}) { return; }`,
    `  let g = group / ${u32Literal(tilesM * tilesN)};`,
    `  let row0 = (group / ${u32Literal(tilesN)}) % ${u32Literal(tilesM)} * ${u32Literal(tile)};`,
    `  let col0 = group % ${u32Literal(tilesN)} * ${u32Literal(tile)};`,
    `  let local_row = local / ${SIDE}u * ${per}u;`,
    `  let local_col = local % ${SIDE}u * ${per}u;`,
    ...pairs.map(([i, j]) => `  var acc_${i}_${j} = 0.0;`),
    `  for (var k0 = 0u; k0 < ${u32Literal(gemm.k)}; k0 += ${tileK}u) {`,
    `    for (var e = local; e < ${tile * tileK}u; e += ${INVOCATIONS}u) {`,
    `      tile_a[e] = load_a(g, row0 + e % ${tile}u, k0 + e / ${tile}u);`,
    `      tile_b[e] = load_b(g, k0 + e / ${tile}u, col0 + e % ${tile}u);`,
    '    }',
    '    workgroupBarrier();',
    `    for (var kk = 0u; kk < ${tileK}u; kk++) {`,
    ...range.map((i) => `      let a${i} = tile_a[kk * ${tile}u + local_row + ${i}u];`),
    ...range.map((j) => `      let b${j} = tile_b[kk * ${tile}u + local_col + ${j}u];`),
    ...pairs.map(([i, j]) => `      acc_${i}_${j} += a${i} * b${j};`),
    '    }',
    '    workgroupBarrier();',
    '  }',
    ...stores,
    '}',
  ].join('\n');
  const outIndex = [
    'fn out_index(g: u32, r: u32, c: u32) -> u32 {',
    ...(gemm.outLines ?? []).map((line) => `  ${line}`),
    ...(gemm.outValid === undefined ? [] : [`  if (!(${gemm.outValid})) { return ${NO_OUTPUT}; }`]),
    `  return ${gemm.outIndex};`,
    '}',
  ].join('\n');
  return [loader('load_a', 'r', 'k', gemm.m, gemm.k, gemm.loadA), loader('load_b', 'k', 'c', gemm.k, gemm.n, gemm.loadB), outIndex, memory, entry];
}
