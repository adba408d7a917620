// One WGSL compute shader per fused kernel: bindings, helpers, expression functions and an entry
// point laid out for the kernel's kind. Contraction kernels large enough for tiles run as tiled
// matrix products (tiled.ts). Elementwise, reduce and the other contraction kernels run one
// invocation per output element. Row kernels run one workgroup per row: each row reduction is a
// strided sum per invocation followed by a tree in workgroup memory, and then every invocation
// writes its share of the row. Generation is a pure function of the kernel and the layout, so the
// same kernel always gets the same source.

import { formatShape, numel } from '../../src/ir/graph.ts';
import type { BufferInfo, Kernel, KernelExpr } from '../../src/kernel/kernel.ts';
import type { KernelLayout } from './bindings.ts';
import { emitExpressionFunctions, writeOutput } from './expressions.ts';
import { helpersFor } from './helpers.ts';
import { u32Literal } from './literals.ts';
import { type TiledPlan, tiledSections } from './tiled.ts';

/**
 * Returns the WGSL source of `kernel` under `layout`, tiled when `tiled` is given; `buffers` names
 * the tensors in the header comment.
 */
export function kernelSource(kernel: Kernel, buffers: readonly BufferInfo[], layout: KernelLayout, tiled: TiledPlan | null = null): string {
  const header = [headerComment(kernel, buffers), bindingDeclarations(layout).join('\n')];
  let sections: string[];
  if (tiled !== null) {
    const store = (output: number, index: string, value: string): string => writeOutput(layout, output, index, value);
    sections = [
      ...header,
      ...helpersFor(kernel),
      ...emitExpressionFunctions({ kernel, layout, rowReductions: false, tiledContraction: tiled.contraction }),
      ...tiledSections(kernel, tiled, store),
    ];
  } else {
    sections = [
      ...header,
      gridConstants(kernel).join('\n'),
      ...helpersFor(kernel),
      ...(kernel.kind === 'row' ? rowWorkgroupMemory(kernel) : []),
      ...emitExpressionFunctions({ kernel, layout, rowReductions: kernel.kind === 'row' }),
      kernel.kind === 'row' ? rowEntryPoint(kernel, layout) : elementEntryPoint(kernel, layout),
    ];
  }
  return sections.filter((section) => section.length > 0).join('\n\n') + '\n';
}

function headerComment(kernel: Kernel, buffers: readonly BufferInfo[]): string {
  const describe = (buffer: number): string => {
    const info = buffers[buffer]!;
    const source = info.source;
    const origin = source.kind === 'input' || source.kind === 'param' ? `${source.kind} ${safeComment(source.name)}` : source.kind;
    return `b${buffer} ${formatShape(info.shape)} (${origin})`;
  };
  const lines = [`// sganc kernel ${kernel.name}: ${kernel.kind} ${formatShape(kernel.shape)}`];
  kernel.inputs.forEach((buffer, k) => lines.push(`// in${k} = ${describe(buffer)}`));
  kernel.outputs.forEach((output, k) => lines.push(`// out${k} = ${describe(output.buffer)}`));
  return lines.join('\n');
}

/** Keeps model-file names from ending a comment line or carrying control characters. */
function safeComment(name: string): string {
  return name.replace(/[^\w.\-[\]]/g, '_');
}

function bindingDeclarations(layout: KernelLayout): string[] {
  if (layout.kind === 'separate') {
    return layout.slots.map((slot, binding) => {
      // Every range of the work arena is bound read_write: WebGPU rejects read-only and writable
      // storage bindings of one buffer in the same dispatch, even on disjoint ranges.
      const access = slot.arena === 'work' ? 'read_write' : 'read';
      return `@group(0) @binding(${binding}) var<storage, ${access}> ${slot.name}: array<f32>;`;
    });
  }
  const lines = layout.arenas.map((arena, binding) => {
    const access = arena === 'work' ? 'read_write' : 'read';
    return `@group(0) @binding(${binding}) var<storage, ${access}> ${arena}: array<f32>;`;
  });
  const vectors = Math.ceil(layout.slots.length / 4);
  lines.push(
    '// Element offsets of the tensors in their arenas, four per vec4 because uniform arrays have a 16-byte stride.',
    `struct Slots { offsets: array<vec4<u32>, ${vectors}> }`,
    `@group(0) @binding(${layout.arenas.length}) var<uniform> slots: Slots;`,
  );
  return lines;
}

function gridConstants(kernel: Kernel): string[] {
  const { workgroupSize, workgroups } = kernel.dispatch;
  return [
    `const WORKGROUP_SIZE: u32 = ${u32Literal(workgroupSize)};`,
    `const GRID_X: u32 = ${u32Literal(workgroups[0])};`,
    `const GRID_Y: u32 = ${u32Literal(workgroups[1])};`,
  ];
}

const ENTRY_SIGNATURE =
  'fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) local: u32) {';

/** The linear workgroup index of a grid that wraps into y and z past the per-dimension limit. */
const GROUP_INDEX = '  let group = workgroup.x + (workgroup.y + workgroup.z * GRID_Y) * GRID_X;';

function elementEntryPoint(kernel: Kernel, layout: KernelLayout): string {
  const lines = [
    '@compute @workgroup_size(WORKGROUP_SIZE)',
    ENTRY_SIGNATURE,
    GROUP_INDEX,
    '  let i = group * WORKGROUP_SIZE + local;',
    `  if (i >= ${u32Literal(numel(kernel.shape))}) { return; }`,
  ];
  kernel.outputs.forEach((output, k) => lines.push(`  ${writeOutput(layout, k, 'i', `expr${output.expr}(i)`)}`));
  lines.push('}');
  return lines.join('\n');
}

type ReduceExpr = Extract<KernelExpr, { kind: 'reduce' }>;

function rowReductions(kernel: Kernel): [number, ReduceExpr][] {
  const found: [number, ReduceExpr][] = [];
  kernel.exprs.forEach((expr, index) => {
    if (expr.kind === 'reduce') found.push([index, expr]);
  });
  return found;
}

function rowLength(kernel: Kernel): number {
  return kernel.rowAxes!.reduce((n, axis) => n * kernel.shape[axis]!, 1);
}

function rowWorkgroupMemory(kernel: Kernel): string[] {
  const lines = [`var<workgroup> partial: array<f32, ${kernel.dispatch.workgroupSize}>;`];
  for (const [index] of rowReductions(kernel)) lines.push(`var<workgroup> row_result${index}: f32;`);
  return [lines.join('\n')];
}

function rowEntryPoint(kernel: Kernel, layout: KernelLayout): string {
  const length = rowLength(kernel);
  const rows = numel(kernel.shape) / length;
  const lines = [
    '@compute @workgroup_size(WORKGROUP_SIZE)',
    ENTRY_SIGNATURE,
    GROUP_INDEX,
    '  let row = group;',
    // The workgroup index is uniform, so this return keeps the barriers below in uniform control flow.
    `  if (row >= ${u32Literal(rows)}) { return; }`,
  ];
  for (const [index, expr] of rowReductions(kernel)) lines.push(...rowReduction(kernel, index, expr, rows));
  lines.push(
    `  for (var t = local; t < ${u32Literal(length)}; t += WORKGROUP_SIZE) {`,
    `    let i = row * ${u32Literal(length)} + t;`,
  );
  kernel.outputs.forEach((output, k) => lines.push(`    ${writeOutput(layout, k, 'i', `expr${output.expr}(i)`)}`));
  lines.push('  }', '}');
  return lines.join('\n');
}

/** Emits the workgroup reduction of one row: strided partials, a tree, the result in row_resultN. */
function rowReduction(kernel: Kernel, index: number, expr: ReduceExpr, rows: number): string[] {
  const inShape = kernel.exprs[expr.x]!.shape;
  const length = expr.axes.reduce((n, axis) => n * inShape[axis]!, 1);
  if (numel(inShape) / length !== rows) {
    throw new Error(`internal error: reduction e${index} of ${kernel.name} has ${numel(inShape) / length} rows, the kernel ${rows}`);
  }
  const isMax = expr.op === 'max';
  const combine = (a: string, b: string): string => (isMax ? `select(${a}, ${b}, ${b} > ${a} || is_nan(${b}))` : `${a} + ${b}`);
  return [
    '  {',
    `    var acc = ${isMax ? 'f32_from_bits(0xff800000u)' : '0.0'};`,
    `    for (var t = local; t < ${u32Literal(length)}; t += WORKGROUP_SIZE) {`,
    `      let value = expr${expr.x}(row * ${u32Literal(length)} + t);`,
    `      acc = ${combine('acc', 'value')};`,
    '    }',
    '    partial[local] = acc;',
    '    workgroupBarrier();',
    '    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {',
    `      if (local < stride) { partial[local] = ${combine('partial[local]', 'partial[local + stride]')}; }`,
    '      workgroupBarrier();',
    '    }',
    `    if (local == 0u) { row_result${index} = partial[0]; }`,
    '    workgroupBarrier();',
    '  }',
  ];
}
