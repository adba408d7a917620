// WGSL text for the expressions of one kernel. Each expression that some consumer reads at an index
// other than its own gets a function `exprN(i: u32) -> f32` (N is its local index). A function body
// evaluates the expressions that share its index once each, as `let` values. A reduction,
// contraction or random expression calls the functions of its operands at the indices it maps to.
// A chain of movements is composed into one index map (composeMovements). The chain calls the
// function of its innermost operand once, behind range checks where it pads. So the movements
// inside the chain get no function, and the index is split into coordinates once per chain.
// Identifiers are built from indices only, so no name from a model file reaches the shader.

import { assertNever, type Node, numel, operands, type Shape, type UnaryOp, type BinaryOp } from '../../src/ir/graph.ts';
import type { Kernel, KernelExpr } from '../../src/kernel/kernel.ts';
import { type ComposedMovement, composeMovements, coordinateBounds, type RangeCheck } from '../../src/kernel/movement.ts';
import type { KernelLayout } from './bindings.ts';
import { emitContraction } from './contraction.ts';
import { f32Literal, rowMajorStrides, u32Literal } from './literals.ts';

/** Expressions that read their operand at the operand's own index, so they share a let chain. */
function sameIndex(expr: KernelExpr): boolean {
  return expr.kind === 'unary' || expr.kind === 'binary' || expr.kind === 'select' || expr.kind === 'reshape';
}

/**
 * Returns the local indices of the expressions that need a function: the outputs and every
 * expression that a reachable consumer reads at a mapped index. A composed chain reads only its
 * innermost operand, so the movements inside it need no function.
 */
export function functionRoots(kernel: Kernel): Set<number> {
  const roots = new Set<number>();
  const pending = kernel.outputs.map((output) => output.expr);
  // Reductions and contractions get their loop functions whether or not an output reaches them.
  kernel.exprs.forEach((expr, index) => {
    if (expr.kind === 'reduce' || isContraction(expr)) pending.push(...mappedReads(kernel, index));
  });
  for (let root = pending.pop(); root !== undefined; root = pending.pop()) {
    if (roots.has(root)) continue;
    roots.add(root);
    for (const member of sameIndexMembers(kernel, root)) pending.push(...mappedReads(kernel, member));
  }
  return roots;
}

/** Returns `root` and the expressions that its function evaluates as `let` values at the same index. */
function sameIndexMembers(kernel: Kernel, root: number): Set<number> {
  const members = new Set<number>();
  const visit = (index: number): void => {
    if (members.has(index)) return;
    members.add(index);
    const expr = kernel.exprs[index]!;
    if (sameIndex(expr)) for (const operand of operands(expr as Node)) visit(operand);
  };
  visit(root);
  return members;
}

/** Returns the expressions that expression `index` reads through their functions. */
function mappedReads(kernel: Kernel, index: number): number[] {
  const expr = kernel.exprs[index]!;
  if (expr.kind === 'load' || sameIndex(expr)) return [];
  const chain = composeMovements(kernel.exprs, index);
  if (chain === undefined) return operands(expr as Node);
  return chain.padding ? [] : [chain.leaf];
}

function isContraction(expr: KernelExpr): expr is Extract<KernelExpr, { kind: 'matmul' | 'conv2d' | 'conv2dBackInput' | 'conv2dBackWeight' }> {
  return expr.kind === 'matmul' || expr.kind === 'conv2d' || expr.kind === 'conv2dBackInput' || expr.kind === 'conv2dBackWeight';
}

export interface ExpressionContext {
  kernel: Kernel;
  layout: KernelLayout;
  /** Whether reductions read the per-row workgroup results (row kernels) instead of looping. */
  rowReductions: boolean;
  /**
   * The contraction of a tiled kernel, whose value the entry point passes to the output
   * functions as `acc` instead of a loop function computing it per element.
   */
  tiledContraction?: number;
}

/** Returns the WGSL expression that reads input `input` of the kernel at the u32 index `index`. */
export function readInput(layout: KernelLayout, input: number, index: string): string {
  const slot = layout.slots.findIndex((s) => !s.output && s.name === `in${input}`);
  if (slot < 0) throw new Error(`internal error: input ${input} has no slot`);
  if (layout.kind === 'separate') return `in${input}[${index}]`;
  const arena = layout.slots[slot]!.arena;
  return `${arena}[${slotOffset(slot)} + ${index}]`;
}

/** Returns the WGSL statement that stores `value` into output `output` at the u32 index `index`. */
export function writeOutput(layout: KernelLayout, output: number, index: string, value: string): string {
  const slot = layout.slots.findIndex((s) => s.output && s.name === `out${output}`);
  if (slot < 0) throw new Error(`internal error: output ${output} has no slot`);
  if (layout.kind === 'separate') return `out${output}[${index}] = ${value};`;
  return `work[${slotOffset(slot)} + ${index}] = ${value};`;
}

/** Uniform arrays have a 16-byte element stride, so four u32 offsets share one vec4. */
function slotOffset(slot: number): string {
  return `slots.offsets[${Math.floor(slot / 4)}][${slot % 4}]`;
}

/** Emits one function per root, then the loop functions of reductions and contractions. */
export function emitExpressionFunctions(context: ExpressionContext): string[] {
  const { kernel, tiledContraction } = context;
  const chunks: string[] = [];
  const epilogues = tiledContraction === undefined ? new Set<number>() : epilogueOf(kernel, tiledContraction);
  for (const root of [...functionRoots(kernel)].sort((a, b) => a - b)) {
    chunks.push(epilogues.has(root) ? emitEpilogueFunction(context, root) : emitFunction(context, root));
  }
  kernel.exprs.forEach((expr, index) => {
    if (expr.kind === 'reduce' && !context.rowReductions) chunks.push(emitReduceFunction(kernel, expr, index));
    if (isContraction(expr) && index !== tiledContraction) chunks.push(emitContraction(kernel, expr, index));
  });
  return chunks;
}

/** Returns the expressions whose same-index chain contains `contraction`: the contraction and its epilogue. */
export function epilogueOf(kernel: Kernel, contraction: number): Set<number> {
  const reached = new Set<number>([contraction]);
  kernel.exprs.forEach((expr, index) => {
    if (index > contraction && sameIndex(expr) && operands(expr as Node).some((operand) => reached.has(operand))) reached.add(index);
  });
  return reached;
}

/** Emits `fn exprN(i: u32) -> f32`, the value of expression `root` at index i. */
function emitFunction(context: ExpressionContext, root: number): string {
  const lines = letChain(context, root, undefined);
  return [`fn expr${root}(i: u32) -> f32 {`, ...lines.map((line) => `  ${line}`), `  return v${root};`, '}'].join('\n');
}

/** Emits `fn exprN(i: u32, acc: f32) -> f32`, an output of a tiled kernel given its contraction's value. */
function emitEpilogueFunction(context: ExpressionContext, root: number): string {
  const lines = letChain(context, root, context.tiledContraction);
  return [`fn expr${root}(i: u32, acc: f32) -> f32 {`, ...lines.map((line) => `  ${line}`), `  return v${root};`, '}'].join('\n');
}

/** Returns the let statements of `root` and the expressions that share its index; `accumulated` reads `acc`. */
function letChain(context: ExpressionContext, root: number, accumulated: number | undefined): string[] {
  const lines: string[] = [];
  const emitted = new Set<number>();
  const coordinates: Coordinates = new Map();
  const visit = (index: number): void => {
    if (emitted.has(index)) return;
    emitted.add(index);
    if (index === accumulated) {
      lines.push(`let v${index} = acc;`);
      return;
    }
    const expr = context.kernel.exprs[index]!;
    if (sameIndex(expr)) for (const operand of operands(expr as Node)) visit(operand);
    lines.push(...emitValue(context, expr, index, coordinates));
  };
  visit(root);
  return lines;
}

/** Coordinate variables of index i already defined in one function body, by shape and axis. */
type Coordinates = Map<string, string>;

/** Emits the statements that define `vN`, the value of expression N at index i. */
function emitValue(context: ExpressionContext, expr: KernelExpr, index: number, coordinates: Coordinates): string[] {
  const v = `v${index}`;
  switch (expr.kind) {
    case 'load':
      return [`let ${v} = ${readInput(context.layout, expr.input, 'i')};`];
    case 'fill':
      return [`let ${v} = ${f32Literal(expr.value)};`];
    case 'input':
    case 'param':
    case 'literal':
      throw new Error(`internal error: ${expr.kind} inside kernel ${context.kernel.name}`);
    case 'unary':
      return [`let ${v} = ${unaryText(expr.op, `v${expr.x}`, expr.slope)};`];
    case 'binary':
      return [`let ${v} = ${binaryText(expr.op, `v${expr.a}`, `v${expr.b}`)};`];
    case 'select':
      return [`let ${v} = select(v${expr.b}, v${expr.a}, v${expr.cond} != 0.0);`];
    case 'reshape':
      return [`let ${v} = v${expr.x};`];
    case 'permute':
    case 'broadcast':
    case 'slice':
    case 'flip':
    case 'pad': {
      const chain = composeMovements(context.kernel.exprs, index);
      if (chain !== undefined) return chainValue(chain, expr.shape, index, coordinates);
      if (expr.kind !== 'pad') throw new Error(`internal error: ${expr.kind} e${index} of ${context.kernel.name} did not compose`);
      // A pad with interior padding ends every chain and maps its own index.
      return padValue(expr, context.kernel.exprs[expr.x]!.shape, index);
    }
    case 'reduce':
      return [context.rowReductions ? `let ${v} = row_result${index};` : `let ${v} = r${index}(i);`];
    case 'matmul':
    case 'conv2d':
    case 'conv2dBackInput':
    case 'conv2dBackWeight':
      return [`let ${v} = c${index}(i);`];
    case 'randn':
      return [`let ${v} = randn_at(u32(expr${expr.key}(0u)), ${u32Literal(expr.stream)}, i);`];
    default:
      return assertNever(expr);
  }
}

function unaryText(op: UnaryOp, x: string, slope: number): string {
  switch (op) {
    case 'neg':
      return `-${x}`;
    case 'exp':
      return `exp(${x})`;
    case 'log':
      return `log(${x})`;
    case 'sqrt':
      return `sqrt(${x})`;
    case 'rsqrt':
      return `1.0 / sqrt(${x})`;
    case 'recip':
      return `1.0 / ${x}`;
    case 'square':
      return `${x} * ${x}`;
    case 'abs':
      return `abs(${x})`;
    case 'sign':
      return `sign(${x})`;
    case 'softplus':
      return `softplus(${x})`;
    case 'sigmoid':
      return `sigmoid(${x})`;
    case 'lrelu':
      return `select(${f32Literal(slope)} * ${x}, ${x}, ${x} > 0.0)`;
    case 'lreluGrad':
      return `select(${f32Literal(slope)}, 1.0, ${x} > 0.0)`;
    default:
      return assertNever(op);
  }
}

/** max and min return b on ties and NaN, and greater is 0 on NaN, as the reference executor does. */
function binaryText(op: BinaryOp, a: string, b: string): string {
  switch (op) {
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      return `${a} / ${b}`;
    case 'max':
      return `select(${b}, ${a}, ${a} > ${b})`;
    case 'min':
      return `select(${b}, ${a}, ${b} > ${a})`;
    case 'greater':
      return `select(0.0, 1.0, ${a} > ${b})`;
    default:
      return assertNever(op);
  }
}

/** Emits the value of a composed chain: its leaf's function at the mapped index, or zero where a test fails. */
function chainValue(chain: ComposedMovement, shape: Shape, index: number, coordinates: Coordinates): string[] {
  const v = `v${index}`;
  if (chain.padding) return [`let ${v} = 0.0;`];
  if (chain.checks.length === 0) return [`let ${v} = expr${chain.leaf}(${mappedIndex(shape, chain.multiplier, chain.base)});`];
  // Coordinates are i32 variables here, shared by the tests and the index of every chain in this function.
  const lines: string[] = [];
  const strides = rowMajorStrides(shape);
  const named = (axis: number): string => {
    const key = `${shape.join('x')}:${axis}`;
    let name = coordinates.get(key);
    if (name === undefined) {
      name = `coord${index}_${axis}`;
      coordinates.set(key, name);
      lines.push(`let ${name} = i32(${coordinate(axis, shape, strides)});`);
    }
    return name;
  };
  const conditions = chain.checks.flatMap((test) => testConditions(named(test.axis), test));
  const terms: string[] = [];
  for (let a = 0; a < shape.length; a++) {
    if (shape[a]! > 1 && chain.multiplier[a] !== 0) terms.push(`${named(a)} * ${chain.multiplier[a]}`);
  }
  const mapped = terms.length === 0 ? u32Literal(chain.base) : `u32(${chain.base} + ${terms.join(' + ')})`;
  return [...lines, `var ${v} = 0.0;`, `if (${conditions.join(' && ')}) {`, `  ${v} = expr${chain.leaf}(${mapped});`, '}'];
}

/** Returns the i32 conditions for 0 <= offset + scale * name < size, with the coordinate alone on one side when scale is 1 or -1. */
function testConditions(name: string, test: RangeCheck): string[] {
  const bounds = coordinateBounds(test);
  if (bounds !== undefined) return bounds.map((bound) => `${name} ${bound.op} ${bound.value}`);
  const term = `${name} * ${test.scale} + ${test.offset}`;
  const conditions: string[] = [];
  if (test.low) conditions.push(`${term} >= 0`);
  if (test.high) conditions.push(`${term} < ${test.size}`);
  return conditions;
}

/** Returns base + the sum over axes of coordinate * multiplier for flat index i of `shape`, as a u32 WGSL expression. */
function mappedIndex(shape: Shape, multiplier: readonly number[], base: number): string {
  const strides = rowMajorStrides(shape);
  const terms: string[] = [];
  for (let a = 0; a < shape.length; a++) {
    if (shape[a]! <= 1 || multiplier[a] === 0) continue;
    terms.push(`i32(${coordinate(a, shape, strides)}) * ${multiplier[a]}`);
  }
  if (terms.length === 0) return u32Literal(base);
  return `u32(${base} + ${terms.join(' + ')})`;
}

/** Returns the u32 coordinate of axis `axis` of flat index i. */
function coordinate(axis: number, shape: Shape, strides: readonly number[]): string {
  const stride = strides[axis]!;
  const divided = stride === 1 ? 'i' : `(i / ${u32Literal(stride)})`;
  return axis === 0 ? divided : `${divided} % ${u32Literal(shape[axis]!)}`;
}

/** Emits a pad: zero unless every coordinate lands on an operand element. */
function padValue(expr: Extract<KernelExpr, { kind: 'pad' }>, inShape: Shape, index: number): string[] {
  const outStrides = rowMajorStrides(expr.shape);
  const inStrides = rowMajorStrides(inShape);
  const checks: string[] = [];
  const lines: string[] = [];
  const terms: string[] = [];
  for (let a = 0; a < expr.shape.length; a++) {
    const k = `p${index}_${a}`;
    lines.push(`let ${k} = i32(${coordinate(a, expr.shape, outStrides)}) - ${expr.low[a]!};`);
    const period = expr.interior[a]! + 1;
    checks.push(`${k} >= 0`);
    if (period > 1) checks.push(`${k} % ${period} == 0`);
    const source = period > 1 ? `(${k} / ${period})` : k;
    checks.push(`${source} < ${inShape[a]!}`);
    terms.push(`${source} * ${inStrides[a]!}`);
  }
  const j = terms.length === 0 ? '0' : terms.join(' + ');
  return [
    `var v${index} = 0.0;`,
    ...lines,
    `if (${checks.length === 0 ? 'true' : checks.join(' && ')}) {`,
    `  v${index} = expr${expr.x}(u32(${j}));`,
    '}',
  ];
}

/** Size of the serial blocks of a pairwise sum; the blocks are then added in a binary tree. */
const PAIRWISE_BLOCK = 8;

/**
 * Emits `fn rN(j: u32) -> f32`, a reduction evaluated by one invocation. Sums run blockwise in a
 * binary tree (a stack of partial sums merged like a binary counter), so the rounding error grows
 * with the logarithm of the length, not linearly. Max propagates NaN like the reference.
 */
function emitReduceFunction(kernel: Kernel, expr: Extract<KernelExpr, { kind: 'reduce' }>, index: number): string {
  const inShape = kernel.exprs[expr.x]!.shape;
  const { base, offset, count } = reductionIndexing(inShape, expr.axes);
  const lines = [`fn r${index}(j: u32) -> f32 {`, `  let base = ${base};`];
  if (expr.op === 'max') {
    lines.push(
      '  var acc = f32_from_bits(0xff800000u);',
      `  for (var t = 0u; t < ${u32Literal(count)}; t++) {`,
      `    let value = expr${expr.x}(base + ${offset});`,
      '    if (value > acc || is_nan(value)) { acc = value; }',
      '  }',
      '  return acc;',
      '}',
    );
    return lines.join('\n');
  }
  lines.push(
    '  var stack: array<f32, 32>;',
    '  var depth = 0u;',
    `  for (var block = 0u; block < ${u32Literal(count)}; block += ${u32Literal(PAIRWISE_BLOCK)}) {`,
    '    var partial = 0.0;',
    `    let end = min(block + ${u32Literal(PAIRWISE_BLOCK)}, ${u32Literal(count)});`,
    `    for (var t = block; t < end; t++) { partial += expr${expr.x}(base + ${offset}); }`,
    '    stack[depth] = partial;',
    '    depth++;',
    `    var done = block / ${u32Literal(PAIRWISE_BLOCK)} + 1u;`,
    '    while ((done & 1u) == 0u) {',
    '      depth--;',
    '      stack[depth - 1u] += stack[depth];',
    '      done >>= 1u;',
    '    }',
    '  }',
    '  var acc = 0.0;',
    '  while (depth > 0u) {',
    '    depth--;',
    '    acc += stack[depth];',
    '  }',
    '  return acc;',
    '}',
  );
  return lines.join('\n');
}

/**
 * Returns, for a reduction over `axes` of `inShape`, the operand index of the first element of
 * output j (`base`, in terms of j), the offset of element t of the reduced range (in terms of t),
 * and the range's length.
 */
export function reductionIndexing(inShape: Shape, axes: readonly number[]): { base: string; offset: string; count: number } {
  const strides = rowMajorStrides(inShape);
  const keptAxes = inShape.map((_, a) => a).filter((a) => !axes.includes(a));
  const keptShape = keptAxes.map((a) => inShape[a]!);
  const keptStrides = rowMajorStrides(keptShape);

  const baseTerms: string[] = [];
  keptAxes.forEach((axis, k) => {
    if (inShape[axis]! <= 1) return;
    const divided = keptStrides[k] === 1 ? 'j' : `(j / ${u32Literal(keptStrides[k]!)})`;
    const coord = k === 0 ? divided : `(${divided} % ${u32Literal(keptShape[k]!)})`;
    baseTerms.push(`${coord} * ${u32Literal(strides[axis]!)}`);
  });

  const reducedShape = axes.map((a) => inShape[a]!);
  const reducedStrides = rowMajorStrides(reducedShape);
  const trailing = axes.every((axis, k) => axis === inShape.length - axes.length + k);
  const offsetTerms: string[] = [];
  if (trailing) {
    offsetTerms.push('t');
  } else {
    axes.forEach((axis, k) => {
      if (inShape[axis]! <= 1) return;
      const divided = reducedStrides[k] === 1 ? 't' : `(t / ${u32Literal(reducedStrides[k]!)})`;
      const coord = k === 0 ? divided : `(${divided} % ${u32Literal(reducedShape[k]!)})`;
      offsetTerms.push(`${coord} * ${u32Literal(strides[axis]!)}`);
    });
  }

  return {
    base: baseTerms.length === 0 ? '0u' : baseTerms.join(' + '),
    offset: offsetTerms.length === 0 ? '0u' : `(${offsetTerms.join(' + ')})`,
    count: numel(reducedShape),
  };
}
