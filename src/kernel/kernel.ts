// The fused-kernel representation that code generators print from. A kernel computes one or more
// output buffers of equal shape (its iteration space); each output element is an expression over
// loads of input buffers. Expressions reuse the IR node kinds with operands that are local
// expression indices, plus `load`. Movement kinds (reshape, permute, broadcast, pad, slice, flip)
// are index arithmetic: the value of a movement expression at index i is its operand's value at the
// mapped index (or 0 in padding), so no movement ever copies data. Reductions and contractions are
// loops inside the expression that produce one value per index of their own shape.

import { formatShape, type Node, numel, type Shape } from '../ir/graph.ts';
import { formatNodeBody } from '../ir/print.ts';

/** Reads input buffer `input` (an index into Kernel.inputs) at the expression's own index. */
export interface LoadExpr {
  kind: 'load';
  shape: Shape;
  input: number;
}

/** An IR node whose operand fields are indices into Kernel.exprs; leaves other than `fill` never appear. */
export type KernelExpr = LoadExpr | Node;

/**
 * The layout a code generator gives the kernel:
 * - elementwise: one invocation per output element.
 * - reduce: one invocation per output element, each looping over its reduced range.
 * - row: one workgroup per row, an index of the leading, unreduced axes. Every reduction in the
 *   kernel runs over the trailing `rowAxes` of the same shape, and its result is broadcast back
 *   over the row from workgroup memory.
 * - contraction: one invocation per output element of a conv2d, its transposes or a matmul, with
 *   movement-only prologues on its operands and an elementwise epilogue.
 */
export type KernelKind = 'elementwise' | 'reduce' | 'row' | 'contraction';

export interface Dispatch {
  workgroupSize: number;
  /** Workgroups in x, y and z; each is at most the target's per-dimension limit. */
  workgroups: [number, number, number];
  /** Workgroup memory the kernel needs, in bytes. */
  workgroupBytes: number;
}

export interface Kernel {
  name: string;
  kind: KernelKind;
  /** The iteration space: the shape of every output. */
  shape: Shape;
  /** Buffer ids that the kernel reads; LoadExpr.input indexes this list. */
  inputs: number[];
  /** Buffers written, each from one expression evaluated at every index of `shape`. */
  outputs: { buffer: number; expr: number }[];
  exprs: KernelExpr[];
  /** The reduced trailing axes of a row kernel. */
  rowAxes?: number[];
  dispatch: Dispatch;
  /** The IR nodes the kernel computes, for debugging. */
  nodes: number[];
}

/** The origin of a buffer's contents. */
export type BufferSource =
  | { kind: 'input'; name: string }
  | { kind: 'param'; name: string }
  | { kind: 'literal'; data: Float32Array }
  | { kind: 'kernel'; kernel: number };

export interface BufferInfo {
  id: number;
  shape: Shape;
  source: BufferSource;
  /** For kernel buffers: the offset in the planned arena, in bytes (a multiple of 256). */
  offset: number;
  bytes: number;
}

/** An input or parameter that a program declares, whether or not a kernel reads it. */
export interface FeedInfo {
  name: string;
  kind: 'input' | 'param';
  shape: Shape;
}

export interface FusedProgram {
  /** Every feed of the program, checked on each run like the reference executor checks them. */
  feeds: FeedInfo[];
  buffers: BufferInfo[];
  kernels: Kernel[];
  /** Output names to buffer ids. */
  outputs: Map<string, number>;
  /** Size of the arena that contains every kernel buffer under the plan, in bytes. */
  peakBytes: number;
  /** The largest total size of kernel buffers live at once, a lower bound on peakBytes. */
  liveBytes: number;
}

/** Formats a kernel's header line: name, kind, shape, buffers read and written, dispatch. */
export function formatKernelHeader(kernel: Kernel): string {
  const { workgroupSize, workgroups } = kernel.dispatch;
  const reads = kernel.inputs.map((b) => `b${b}`).join(', ');
  const writes = kernel.outputs.map((o) => `b${o.buffer}`).join(', ');
  return (
    `${kernel.name}: ${kernel.kind} ${formatShape(kernel.shape)} (${numel(kernel.shape)} elements), ` +
    `reads [${reads}], writes [${writes}], workgroup ${workgroupSize}, grid ${workgroups.join('x')}`
  );
}

/** Formats a kernel with one line per expression, `e3 = binary.mul(e1, e2) : [4, 8]`. */
export function formatKernel(kernel: Kernel): string {
  const lines = [formatKernelHeader(kernel)];
  kernel.exprs.forEach((expr, i) => {
    const body = expr.kind === 'load' ? `load(in${expr.input} = b${kernel.inputs[expr.input]})` : formatNodeBody(expr).replace(/%(\d+)/g, 'e$1');
    lines.push(`  e${i} = ${body} : ${formatShape(expr.shape)}`);
  });
  for (const output of kernel.outputs) lines.push(`  store b${output.buffer} = e${output.expr}`);
  return lines.join('\n');
}
