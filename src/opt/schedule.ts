// Scheduling: turns a fusion plan into kernels in execution order, with buffers and a dispatch
// that fits the target's limits.

import { type Graph, type Node, type NodeId, numel, opGroup, sameShape } from '../ir/graph.ts';
import { remapNode } from './rewrite.ts';
import type { BufferInfo, Dispatch, Kernel, KernelExpr, KernelKind } from '../kernel/kernel.ts';
import { type FusionPlan, kernelMembers, rowKeyOf } from './fuse.ts';

/** Limits of a compute target. */
export interface TargetLimits {
  /** Storage buffers per shader stage, inputs and outputs together. */
  maxStorageBuffers: number;
  /** Workgroup (shared) memory per workgroup, in bytes. */
  maxWorkgroupBytes: number;
  /** Invocations per workgroup. */
  maxInvocations: number;
  /** Workgroups per dispatch dimension. */
  maxWorkgroupsPerDimension: number;
}

/** Returns WebGPU's default limits. Compatibility mode allows 128 invocations per workgroup. */
export function webgpuLimits(compatibility = false): TargetLimits {
  return {
    maxStorageBuffers: 8,
    maxWorkgroupBytes: 16 * 1024,
    maxInvocations: compatibility ? 128 : 256,
    maxWorkgroupsPerDimension: 65_535,
  };
}

export interface Schedule {
  kernels: Kernel[];
  buffers: BufferInfo[];
  outputs: Map<string, number>;
}

/** Builds the kernels of `plan` in topological order of their roots, then merges elementwise siblings. */
export function scheduleKernels(graph: Graph, plan: FusionPlan, limits: TargetLimits): Schedule {
  const buffers: BufferInfo[] = [];
  const bufferOf = new Map<NodeId, number>();
  const addBuffer = (id: NodeId, source: BufferInfo['source']): number => {
    const shape = graph.shape(id);
    const buffer = buffers.length;
    buffers.push({ id: buffer, shape, source, offset: 0, bytes: 4 * numel(shape) });
    bufferOf.set(id, buffer);
    return buffer;
  };
  const externalBuffer = (id: NodeId): number => {
    const existing = bufferOf.get(id);
    if (existing !== undefined) return existing;
    const node = graph.node(id);
    if (node.kind === 'input' || node.kind === 'param') return addBuffer(id, { kind: node.kind, name: node.name });
    if (node.kind === 'literal') return addBuffer(id, { kind: 'literal', data: node.data });
    throw new Error(`internal error: %${id} has no buffer`);
  };

  const kernels: Kernel[] = [];
  graph.nodes.forEach((_, id) => {
    if (!plan.root[id]) return;
    const { nodes, reads } = kernelMembers(graph, plan.root, id);
    const inputs = reads.map((read) => bufferOf.get(read) ?? externalBuffer(read));
    const exprs: KernelExpr[] = [];
    const local = new Map<NodeId, number>();
    reads.forEach((read, i) => {
      local.set(read, exprs.length);
      exprs.push({ kind: 'load', shape: graph.shape(read), input: i });
    });
    for (const member of nodes) {
      local.set(member, exprs.length);
      exprs.push(remapNode(graph.node(member), (operand) => local.get(operand)!));
    }
    const output = addBuffer(id, { kind: 'kernel', kernel: kernels.length });
    const kind = kernelKind(graph, nodes, plan);
    const kernel: Kernel = {
      name: '',
      kind,
      shape: graph.shape(id),
      inputs,
      outputs: [{ buffer: output, expr: local.get(id)! }],
      exprs,
      nodes,
      dispatch: { workgroupSize: 1, workgroups: [1, 1, 1], workgroupBytes: 0 },
    };
    if (kind === 'row') kernel.rowAxes = rowAxesOf(graph, nodes);
    kernel.name = kernelName(kernels.length, graph, nodes, id);
    kernel.dispatch = dispatchFor(kernel, limits);
    kernels.push(kernel);
  });

  const outputs = new Map<string, number>();
  for (const [name, id] of graph.outputs) outputs.set(name, bufferOf.get(id) ?? externalBuffer(id));
  const merged = mergeSiblings(kernels, buffers, limits);
  return { kernels: merged, buffers, outputs };
}

/**
 * Merges each elementwise kernel into an earlier elementwise kernel of the same shape that reads
 * one of the same buffers, so the shared buffer is read once and one dispatch writes both outputs.
 * The later kernel moves up to the earlier one's place, so every buffer it reads must be written
 * before that place, and it must not read the earlier kernel's outputs.
 */
function mergeSiblings(kernels: Kernel[], buffers: BufferInfo[], limits: TargetLimits): Kernel[] {
  const producer = new Map<number, number>();
  kernels.forEach((kernel, k) => {
    for (const output of kernel.outputs) producer.set(output.buffer, k);
  });
  const mergedInto = new Array<number>(kernels.length).fill(-1);
  for (let j = 0; j < kernels.length; j++) {
    const later = kernels[j]!;
    if (later.kind !== 'elementwise') continue;
    for (let i = 0; i < j; i++) {
      const earlier = kernels[i]!;
      if (mergedInto[i] !== -1 || earlier.kind !== 'elementwise' || !sameShape(earlier.shape, later.shape)) continue;
      if (!later.inputs.some((buffer) => earlier.inputs.includes(buffer))) continue;
      // Every buffer the later kernel reads must exist at the earlier kernel's place. The producer
      // map follows merges, so a buffer written by a merged kernel counts at its new place.
      const ready = later.inputs.every((buffer) => (producer.get(buffer) ?? -1) < i);
      if (!ready) continue;
      const inputs = [...new Set([...earlier.inputs, ...later.inputs])];
      if (inputs.length + earlier.outputs.length + later.outputs.length > limits.maxStorageBuffers) continue;
      appendKernel(earlier, later, inputs);
      for (const output of later.outputs) producer.set(output.buffer, i);
      mergedInto[j] = i;
      break;
    }
  }

  const kept = kernels.filter((_, k) => mergedInto[k] === -1);
  kept.forEach((kernel, k) => {
    kernel.name = kernel.name.replace(/^k\d+_/, `k${k}_`);
    for (const output of kernel.outputs) {
      const source = buffers[output.buffer]!.source;
      if (source.kind === 'kernel') source.kernel = k;
    }
  });
  return kept;
}

/** Appends the expressions and outputs of `later` to `earlier`, which reads `inputs` from now on. */
function appendKernel(earlier: Kernel, later: Kernel, inputs: number[]): void {
  const offset = earlier.exprs.length;
  const inputIndex = (buffer: number): number => inputs.indexOf(buffer);
  earlier.exprs = earlier.exprs.map((expr) => (expr.kind === 'load' ? { ...expr, input: inputIndex(earlier.inputs[expr.input]!) } : expr));
  for (const expr of later.exprs) {
    if (expr.kind === 'load') earlier.exprs.push({ ...expr, input: inputIndex(later.inputs[expr.input]!) });
    else earlier.exprs.push(remapNode(expr, (operand) => operand + offset));
  }
  earlier.inputs = inputs;
  earlier.outputs = [...earlier.outputs, ...later.outputs.map((output) => ({ buffer: output.buffer, expr: output.expr + offset }))];
  earlier.nodes = [...earlier.nodes, ...later.nodes];
}

function kernelKind(graph: Graph, nodes: NodeId[], plan: FusionPlan): KernelKind {
  const groups = nodes.map((id) => opGroup(graph.node(id)));
  if (groups.includes('contraction')) return 'contraction';
  if (nodes.some((id) => plan.content[id]!.kind === 'row')) return 'row';
  if (groups.includes('reduce')) return 'reduce';
  return 'elementwise';
}

/** Returns the trailing axes that the row reductions of a row kernel reduce. */
function rowAxesOf(graph: Graph, nodes: NodeId[]): number[] {
  for (const id of nodes) {
    const node = graph.node(id);
    if (node.kind === 'reduce' && rowKeyOf(graph, node) !== null) return [...node.axes];
  }
  throw new Error('internal error: row kernel without a row reduction');
}

/** Names a kernel by its position, its core op and its last op, such as `k12_conv2d_lrelu`. */
function kernelName(index: number, graph: Graph, nodes: NodeId[], rootId: NodeId): string {
  const label = (node: Node): string => {
    if (node.kind === 'unary' || node.kind === 'binary') return node.op;
    if (node.kind === 'reduce') return `${node.op}`;
    return node.kind;
  };
  const core = nodes.map((id) => graph.node(id)).find((node) => opGroup(node) === 'contraction' || opGroup(node) === 'reduce');
  const last = label(graph.node(rootId));
  const parts = core === undefined || core === graph.node(rootId) ? [last] : [label(core), last];
  return `k${index}_${parts.join('_')}`;
}

/**
 * Derives the workgroup size and grid. Row kernels run one workgroup per row, with one float of
 * workgroup memory per invocation and reduction. Other kernels run one invocation per output
 * element. A grid over the per-dimension limit wraps into y and then z.
 */
export function dispatchFor(kernel: Kernel, limits: TargetLimits): Dispatch {
  const total = numel(kernel.shape);
  let workgroupSize: number;
  let groups: number;
  let workgroupBytes = 0;
  if (kernel.kind === 'row') {
    const axes = kernel.rowAxes!;
    const rowLength = axes.reduce((n, axis) => n * kernel.shape[axis]!, 1);
    const reductions = kernel.exprs.filter((e) => e.kind === 'reduce').length;
    // Each invocation keeps one float per reduction in workgroup memory.
    const memoryLimit = previousPowerOfTwo(Math.floor(limits.maxWorkgroupBytes / (4 * Math.max(1, reductions))));
    workgroupSize = Math.min(limits.maxInvocations, nextPowerOfTwo(rowLength), memoryLimit);
    groups = total / Math.max(1, rowLength);
    workgroupBytes = 4 * workgroupSize * reductions;
  } else {
    workgroupSize = Math.min(limits.maxInvocations, 64);
    groups = Math.ceil(total / workgroupSize);
  }
  if (workgroupSize < 1 || workgroupBytes > limits.maxWorkgroupBytes) {
    throw new Error(
      `internal error: ${kernel.name} needs ${workgroupBytes} bytes of workgroup memory, over the limit of ${limits.maxWorkgroupBytes}`,
    );
  }
  const max = limits.maxWorkgroupsPerDimension;
  const x = Math.min(Math.max(groups, 1), max);
  const y = Math.min(Math.ceil(groups / max), max);
  const z = Math.ceil(groups / (max * max));
  if (z > max) throw new Error(`internal error: ${kernel.name} needs ${groups} workgroups, more than the target allows`);
  return { workgroupSize, workgroups: [x, Math.max(y, 1), Math.max(z, 1)], workgroupBytes };
}

function previousPowerOfTwo(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
