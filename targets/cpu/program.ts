// A graph compiled for the cpu target: a buffer plan (one byte address per node in the shared
// memory, reused after each buffer's last reader) and one step per node. Contractions, elementwise
// ops and inner-axis sums run as WebAssembly kernels. The remaining node kinds run the reference
// kernels on views of the same memory, so every node kind works. Fused kernels can later replace
// groups of steps.

import { assertNever, formatShape, type Graph, type Node, type NodeId, numel, operands, sameShape } from '../../src/ir/graph.ts';
import { fillRandn } from '../../src/ir/rng.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { unaryKernel } from '../ref/elementwise.ts';
import { broadcastKernel, flipKernel, padKernel, permuteKernel, sliceKernel } from '../ref/movement.ts';
import { reduceKernel } from '../ref/reduce.ts';
import { lastUses } from '../ref/run.ts';
import {
  conv2d,
  conv2dBackInput,
  conv2dBackInputScratch,
  conv2dBackWeight,
  conv2dBackWeightScratch,
  conv2dScratch,
  convGeometry,
  matmul,
  matmulScratch,
} from './contraction.ts';
import type { CpuRuntime } from './runtime.ts';
import { UNARY_KERNELS, type UnaryKernel } from './wasm-source.ts';

/** Buffers start on 64-byte boundaries and span whole 16-byte vectors, so SIMD loops may run past n to a multiple of 4. */
const ALIGN = 64;

/** Elementwise ops on fewer elements than this run on the calling thread. */
const MIN_PARALLEL_ELEMENTS = 1 << 17;

const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

/** Marks the nodes that some output depends on. */
function neededNodes(graph: Graph): Uint8Array {
  const needed = new Uint8Array(graph.nodes.length);
  for (const id of graph.outputs.values()) needed[id] = 1;
  for (let id = graph.nodes.length - 1; id >= 0; id--) {
    if (!needed[id]) continue;
    for (const operand of operands(graph.nodes[id]!)) needed[operand] = 1;
  }
  return needed;
}

/** First-fit allocation of byte ranges, with neighbouring free ranges merged. */
class Arena {
  private free: { start: number; size: number }[] = [];
  top = ALIGN;

  allocate(bytes: number): number {
    const size = alignUp(Math.max(bytes, 16));
    const index = this.free.findIndex((range) => range.size >= size);
    if (index < 0) {
      const address = this.top;
      this.top += size;
      return address;
    }
    const range = this.free[index]!;
    const address = range.start;
    range.start += size;
    range.size -= size;
    if (range.size === 0) this.free.splice(index, 1);
    return address;
  }

  release(address: number, bytes: number): void {
    const size = alignUp(Math.max(bytes, 16));
    this.free.push({ start: address, size });
    this.free.sort((a, b) => a.start - b.start);
    const merged: { start: number; size: number }[] = [];
    for (const range of this.free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.start + last.size === range.start) last.size += range.size;
      else merged.push({ ...range });
    }
    this.free = merged;
  }
}

/** Returns the scratch bytes a node needs beside its inputs and output. */
function scratchBytes(graph: Graph, node: Node): number {
  const shapeOf = (id: NodeId): readonly number[] => graph.nodes[id]!.shape;
  switch (node.kind) {
    case 'conv2d':
      return conv2dScratch(convGeometry(shapeOf(node.x), shapeOf(node.w), node.shape, node.attrs));
    case 'conv2dBackInput':
      return conv2dBackInputScratch(convGeometry(node.shape, shapeOf(node.w), shapeOf(node.dy), node.attrs));
    case 'conv2dBackWeight':
      return conv2dBackWeightScratch(convGeometry(shapeOf(node.x), node.shape, shapeOf(node.dy), node.attrs));
    case 'matmul':
      return matmulScratch(shapeOf(node.a), shapeOf(node.b));
    default:
      return 0;
  }
}

export interface BufferPlan {
  /** Byte address of each needed node's buffer; reshapes share their operand's. */
  address: Int32Array;
  needed: Uint8Array;
  /** Byte address of the scratch region, after every buffer. */
  scratch: number;
  /** Total bytes of memory the program uses. */
  totalBytes: number;
}

/**
 * Assigns every needed node a buffer. A reshape aliases its operand, so a buffer lives until the last
 * reader of any alias; outputs live to the end of the run.
 */
export function planBuffers(graph: Graph): BufferPlan {
  const needed = neededNodes(graph);
  const last = lastUses(graph, needed);
  const count = graph.nodes.length;
  const root = new Int32Array(count);
  for (let id = 0; id < count; id++) {
    const node = graph.nodes[id]!;
    root[id] = node.kind === 'reshape' ? root[node.x]! : id;
  }
  const end = new Array<number>(count).fill(-1);
  for (let id = 0; id < count; id++) {
    // Feeds are copied in (and checked) even when no output reads them.
    const kind = graph.nodes[id]!.kind;
    if (!needed[id] && kind !== 'input' && kind !== 'param') continue;
    const r = root[id]!;
    end[r] = Math.max(end[r]!, last[id]!);
  }

  const arena = new Arena();
  const address = new Int32Array(count).fill(-1);
  const dying = new Map<number, NodeId[]>();
  let maxScratch = 0;
  for (let id = 0; id < count; id++) {
    const node = graph.nodes[id]!;
    if (!needed[id] && node.kind !== 'input' && node.kind !== 'param') continue;
    if (root[id] !== id) {
      address[id] = address[root[id]!]!;
    } else {
      address[id] = arena.allocate(numel(node.shape) * 4);
      const death = end[id] === Infinity ? -1 : end[id]!;
      if (death >= 0) dying.set(death, [...(dying.get(death) ?? []), id]);
    }
    if (needed[id]) maxScratch = Math.max(maxScratch, scratchBytes(graph, node));
    // Buffers whose last reader is this node are free once it is computed.
    for (const dead of dying.get(id) ?? []) arena.release(address[dead]!, numel(graph.nodes[dead]!.shape) * 4);
  }
  const scratch = alignUp(arena.top);
  return { address, needed, scratch, totalBytes: scratch + alignUp(maxScratch) };
}

function checkFeed(feeds: TensorMap, node: Node & { name: string }, role: string): Float32Array {
  const feed = feeds[node.name];
  if (feed === undefined) {
    throw new Error(`missing feed for ${role} '${node.name}': expected a tensor of shape ${formatShape(node.shape)}`);
  }
  if (!sameShape(feed.shape, node.shape) || feed.data.length !== numel(node.shape)) {
    throw new Error(
      `invalid feed for ${role} '${node.name}': expected shape ${formatShape(node.shape)} (${numel(node.shape)} values), ` +
        `got ${formatShape(feed.shape)} with ${feed.data.length} values`,
    );
  }
  return feed.data;
}

function randnKey(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** 24) {
    throw new Error(`invalid randn key ${value}: expected an integer in [0, 2^24)`);
  }
  return value;
}

/** Returns the outer and inner sizes when `axes` are exactly the trailing axes of `shape`, else undefined. */
function trailingAxes(shape: readonly number[], axes: readonly number[]): { outer: number; inner: number } | undefined {
  const rank = shape.length;
  if (axes.length === 0) return undefined;
  for (let i = 0; i < axes.length; i++) if (axes[i] !== rank - axes.length + i) return undefined;
  const inner = numel(shape.slice(rank - axes.length));
  return { outer: numel(shape) / Math.max(1, inner), inner };
}

/** Per-op timing and counts of a run, keyed like the reference executor's profile. */
export type Profile = Map<string, { ms: number; count: number }>;

function profileKey(node: Node): string {
  if (node.kind === 'unary' || node.kind === 'binary') return node.op;
  if (node.kind === 'reduce') return `reduce.${node.op}`;
  return node.kind;
}

export class CpuProgram {
  private readonly plan: BufferPlan;

  constructor(
    readonly graph: Graph,
    private readonly rt: CpuRuntime,
  ) {
    this.plan = planBuffers(graph);
  }

  /** Runs the graph; resolves with every output as a fresh (unshared) array. */
  async run(feeds: TensorMap, profile?: Profile): Promise<TensorMap> {
    await this.rt.start();
    return this.runNow(feeds, profile);
  }

  private runNow(feeds: TensorMap, profile?: Profile): TensorMap {
    const { graph, rt, plan } = this;
    rt.ensureMemory(plan.totalBytes);
    graph.nodes.forEach((node, id) => {
      if (plan.address[id]! < 0) return;
      const start = profile === undefined ? 0 : performance.now();
      this.evaluate(node, id, feeds);
      if (profile !== undefined) {
        const entry = profile.get(profileKey(node)) ?? { ms: 0, count: 0 };
        entry.ms += performance.now() - start;
        entry.count++;
        profile.set(profileKey(node), entry);
      }
    });
    const result: TensorMap = {};
    for (const [name, id] of graph.outputs) {
      const shape = graph.nodes[id]!.shape;
      result[name] = { shape: [...shape], data: this.view(id).slice() };
    }
    return result;
  }

  private view(id: NodeId): Float32Array {
    return this.rt.view(this.plan.address[id]!, numel(this.graph.nodes[id]!.shape));
  }

  private evaluate(node: Node, id: NodeId, feeds: TensorMap): void {
    const rt = this.rt;
    const at = (operand: NodeId): number => this.plan.address[operand]!;
    const shapeOf = (operand: NodeId): readonly number[] => this.graph.nodes[operand]!.shape;
    const out = at(id);
    const n = numel(node.shape);
    const vectors = Math.ceil(n / 4);
    const parallel = n >= MIN_PARALLEL_ELEMENTS;
    switch (node.kind) {
      case 'input':
        this.view(id).set(checkFeed(feeds, node, 'input'));
        return;
      case 'param':
        this.view(id).set(checkFeed(feeds, node, 'parameter'));
        return;
      case 'fill':
        this.view(id).fill(node.value);
        return;
      case 'literal':
        this.view(id).set(node.data);
        return;
      case 'reshape':
        return;
      case 'unary':
        if ((UNARY_KERNELS as readonly string[]).includes(node.op)) {
          const slopeBits = new Int32Array(Float32Array.of(node.slope).buffer)[0]!;
          rt.call(`unary_${node.op as UnaryKernel}`, [at(node.x), out, slopeBits, vectors], parallel);
        } else {
          unaryKernel(node.op, this.view(node.x), node.slope, this.view(id));
        }
        return;
      case 'binary':
        rt.call(`binary_${node.op}`, [at(node.a), at(node.b), out, vectors], parallel);
        return;
      case 'select':
        rt.call('select', [at(node.cond), at(node.a), at(node.b), out, vectors], parallel);
        return;
      case 'reduce': {
        const trailing = node.op === 'sum' ? trailingAxes(shapeOf(node.x), node.axes) : undefined;
        if (trailing !== undefined) {
          rt.call('sumInner', [at(node.x), out, trailing.outer, trailing.inner], numel(shapeOf(node.x)) >= MIN_PARALLEL_ELEMENTS);
        } else {
          reduceKernel(node.op, this.view(node.x), shapeOf(node.x), node.axes, this.view(id));
        }
        return;
      }
      case 'permute':
        permuteKernel(this.view(node.x), shapeOf(node.x), node.perm, this.view(id));
        return;
      case 'broadcast':
        broadcastKernel(this.view(node.x), shapeOf(node.x), node.shape, this.view(id));
        return;
      case 'pad':
        padKernel(this.view(node.x), shapeOf(node.x), node.low, node.interior, node.shape, this.view(id));
        return;
      case 'slice':
        sliceKernel(this.view(node.x), shapeOf(node.x), node.start, node.step, node.shape, this.view(id));
        return;
      case 'flip':
        flipKernel(this.view(node.x), node.shape, node.axes, this.view(id));
        return;
      case 'matmul':
        matmul(rt, shapeOf(node.a), shapeOf(node.b), at(node.a), at(node.b), out, this.plan.scratch);
        return;
      case 'conv2d':
        conv2d(rt, convGeometry(shapeOf(node.x), shapeOf(node.w), node.shape, node.attrs), at(node.x), at(node.w), out, this.plan.scratch);
        return;
      case 'conv2dBackInput':
        conv2dBackInput(rt, convGeometry(node.shape, shapeOf(node.w), shapeOf(node.dy), node.attrs), at(node.dy), at(node.w), out, this.plan.scratch);
        return;
      case 'conv2dBackWeight':
        conv2dBackWeight(rt, convGeometry(shapeOf(node.x), node.shape, shapeOf(node.dy), node.attrs), at(node.x), at(node.dy), out, this.plan.scratch);
        return;
      case 'randn':
        fillRandn(this.view(id), randnKey(this.view(node.key)[0]!), node.stream);
        return;
      default:
        assertNever(node);
    }
  }
}
