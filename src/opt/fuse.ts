// Fusion: decides which IR nodes get a buffer of their own (the roots) and groups every other node
// into the kernel of the root that consumes it. A non-root node is evaluated inside its consumer's
// expression, at the index that its consumer reads.
//
// The rules keep every reduction and contraction computed once per element of its own shape:
// - A reduction or contraction (a core) may feed its consumer inside one kernel only through
//   elementwise ops and movements other than broadcast (an epilogue), so each of its elements is
//   read once per output element.
// - The exception is the row pattern of normalizations: a reduction over trailing axes A of a shape
//   S whose result (or an elementwise function of it) is broadcast back to S over exactly A. Such a
//   kernel runs one workgroup per row, so the reduction runs once per row. Several reductions over
//   the same S and A may share one row kernel (mean and variance of an instance norm).
// - Contraction operands may be movements of buffers (nearest upsample, padding, slicing), which
//   are index arithmetic, and at most PROLOGUE_LIMIT light ops, which every tap recomputes.
// - A node that feeds several kernels is recomputed in each only when it is cheap and contains no
//   core; otherwise it becomes a root. Program outputs are always roots.

import { formatShape, type Graph, type Node, type NodeId, opGroup, operands, sameShape } from '../ir/graph.ts';

/** The kernel-relevant content of a node's inlined expression. */
type Content =
  | { kind: 'none' }
  /** One core evaluated at the node's own index; `row` is set when the node lies in the row space of a row reduction. */
  | { kind: 'core'; row: string | null }
  /** A value in the full shape S of a row pattern that reads row reductions through broadcasts. */
  | { kind: 'row'; row: string };

const NONE: Content = { kind: 'none' };

/** The maximum number of light ops inlined into each of several kernels. A larger shared expression gets a buffer. */
export const RECOMPUTE_LIMIT = 6;

/**
 * The maximum number of light ops in a contraction operand's inlined expression. They run once per
 * tap, so only a scale or an activation is worth folding in.
 */
export const PROLOGUE_LIMIT = 2;

/** Relative cost of one randn element compared with one arithmetic op, for the recompute limit. */
const RANDN_COST = 8;

/** Rounds of stale-root removal; a later round finds few more (1 to 3 kernels per fashion-32 program). */
const UNROOT_PASSES = 3;

/** The minimum number of storage buffers per kernel that fusion supports. */
export const MIN_STORAGE_BUFFERS = 4;

export interface FusionLimits {
  /** Storage buffers one kernel may bind, inputs and outputs together. */
  maxStorageBuffers: number;
}

/** Returns whether a node is read from a buffer that the caller provides. */
export function isExternal(node: Node): boolean {
  return node.kind === 'input' || node.kind === 'param' || node.kind === 'literal';
}

function isCore(node: Node): boolean {
  const group = opGroup(node);
  return group === 'reduce' || group === 'contraction';
}

/** Returns the row key `S|A` of a reduction over trailing axes, or null for any other node. */
export function rowKeyOf(graph: Graph, node: Node): string | null {
  if (node.kind !== 'reduce' || node.axes.length === 0) return null;
  const inShape = graph.shape(node.x);
  const rank = inShape.length;
  const trailing = node.axes.every((axis, i) => axis === rank - node.axes.length + i);
  if (!trailing) return null;
  return `${formatShape(inShape)}|${node.axes.join(',')}`;
}

function parseRowKey(key: string): { shape: number[]; axes: number[] } {
  const [shapeText, axesText] = key.split('|') as [string, string];
  const shape = shapeText === '[]' ? [] : shapeText.slice(1, -1).split(', ').map(Number);
  return { shape, axes: axesText.split(',').map(Number) };
}

/** Returns whether `node` broadcasts a row-space value of shape S with axes A set to 1 back to S. */
function isRowBroadcast(graph: Graph, node: Node, row: string): boolean {
  if (node.kind !== 'broadcast') return false;
  const { shape, axes } = parseRowKey(row);
  const rowShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return sameShape(node.shape, shape) && sameShape(graph.shape(node.x), rowShape);
}

/** The result of fusion: which nodes are roots, why, and each node's in-kernel content. */
export interface FusionPlan {
  root: Uint8Array;
  /** Per root: why it got a buffer. */
  reasons: string[];
  /** Non-root nodes that more than one kernel evaluates, each cheap and free of cores, with their kernel counts. */
  recomputed: Map<NodeId, number>;
  /** Per node: its in-kernel content, for classifying kernels. */
  content: Content[];
}

interface Analysis {
  content: Content[];
  cost: number[];
}

/**
 * Computes the content of every non-root node front to back. Where an edge or a merge breaks a
 * rule, the operand that breaks it becomes a root and `changed` is set, so the caller repeats.
 */
function analyze(graph: Graph, root: Uint8Array, reasons: string[]): { analysis: Analysis; changed: boolean } {
  const n = graph.nodes.length;
  const content: Content[] = new Array(n).fill(NONE);
  const cost = new Array<number>(n).fill(0);
  let changed = false;
  const makeRoot = (id: NodeId, reason: string): void => {
    if (!root[id]) {
      root[id] = 1;
      reasons[id] = reason;
      changed = true;
    }
  };

  graph.nodes.forEach((node, id) => {
    if (isExternal(node) || node.kind === 'fill') return;
    const contributions: { operand: NodeId; content: Content }[] = [];
    let operandCost = 0;
    for (const operand of new Set(operands(node))) {
      const operandNode = graph.node(operand);
      if (root[operand] || isExternal(operandNode) || operandNode.kind === 'fill') continue;
      const passed = passEdge(graph, content[operand]!, operand, node, cost[operand]!);
      if (passed === undefined) {
        makeRoot(operand, `cannot fuse into ${node.kind} %${id}`);
        continue;
      }
      operandCost += cost[operand]!;
      contributions.push({ operand, content: passed });
    }
    const own = node.kind === 'randn' ? RANDN_COST : opGroup(node) === 'movement' ? 0 : 1;
    cost[id] = Math.min(own + operandCost, 1000);

    if (isCore(node)) {
      content[id] = { kind: 'core', row: rowKeyOf(graph, node) };
      return;
    }
    const merged = mergeContents(contributions);
    for (const operand of merged.conflicting) makeRoot(operand, `second core or row pattern in %${id}`);
    content[id] = merged.content;
  });
  return { analysis: { content, cost }, changed };
}

/**
 * Returns the content that `operand` contributes to `consumer` inside one kernel, or undefined when
 * the operand must get its own buffer instead.
 */
function passEdge(graph: Graph, content: Content, operand: NodeId, consumer: Node, operandCost: number): Content | undefined {
  switch (opGroup(consumer)) {
    case 'elementwise':
      return content;
    case 'movement':
      if (consumer.kind === 'broadcast') {
        if (content.kind === 'none') return NONE;
        if (content.kind === 'core' && content.row !== null && isRowBroadcast(graph, consumer, content.row)) {
          return { kind: 'row', row: content.row };
        }
        return undefined;
      }
      if (content.kind === 'row') return undefined;
      // Only a reshape keeps the row layout that a later row broadcast relies on.
      if (content.kind === 'core' && consumer.kind !== 'reshape') return { kind: 'core', row: null };
      return content;
    case 'reduce': {
      if (content.kind === 'none') return NONE;
      if (content.kind === 'row' && content.row === rowKeyOf(graph, consumer)) return content;
      return undefined;
    }
    case 'contraction':
      return content.kind === 'none' && operandCost <= PROLOGUE_LIMIT ? NONE : undefined;
    case 'random':
      return content.kind === 'none' ? NONE : undefined;
    case 'leaf':
      throw new Error(`internal error: leaf node has operand %${operand}`);
  }
}

/** Merges operand contents of one light node; the operands in `conflicting` must become roots. */
function mergeContents(contributions: { operand: NodeId; content: Content }[]): { content: Content; conflicting: NodeId[] } {
  const active = contributions.filter((c) => c.content.kind !== 'none');
  if (active.length === 0) return { content: NONE, conflicting: [] };
  const first = active[0]!.content;
  const conflicting: NodeId[] = [];
  for (const other of active.slice(1)) {
    const c = other.content;
    const sameRow = c.kind === first.kind && 'row' in c && 'row' in first && c.row !== null && c.row === first.row;
    if (!sameRow) conflicting.push(other.operand);
  }
  return { content: first, conflicting };
}

/**
 * Returns, per node, the roots whose kernels evaluate it: itself for a root, else the union over
 * its consumers.
 */
function owners(graph: Graph, root: Uint8Array, consumers: NodeId[][]): Set<NodeId>[] {
  const result: Set<NodeId>[] = graph.nodes.map(() => new Set<NodeId>());
  for (let id = graph.nodes.length - 1; id >= 0; id--) {
    if (root[id]) {
      result[id]!.add(id);
      continue;
    }
    for (const consumer of consumers[id]!) for (const owner of result[consumer]!) result[id]!.add(owner);
  }
  return result;
}

export function consumerLists(graph: Graph): NodeId[][] {
  const consumers: NodeId[][] = graph.nodes.map(() => []);
  graph.nodes.forEach((node, id) => {
    for (const operand of new Set(operands(node))) consumers[operand]!.push(id);
  });
  return consumers;
}

/** Returns the nodes of the kernel rooted at `rootId`, ascending, and the buffers it reads. */
export function kernelMembers(graph: Graph, root: Uint8Array, rootId: NodeId): { nodes: NodeId[]; reads: NodeId[] } {
  const members = new Set<NodeId>([rootId]);
  const reads = new Set<NodeId>();
  const stack = [rootId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const operand of operands(graph.node(id))) {
      const operandNode = graph.node(operand);
      if (root[operand] || isExternal(operandNode)) {
        reads.add(operand);
      } else if (!members.has(operand)) {
        members.add(operand);
        stack.push(operand);
      }
    }
  }
  return { nodes: [...members].sort((p, q) => p - q), reads: [...reads].sort((p, q) => p - q) };
}

/**
 * Chooses the roots of `graph`. Outputs that are inputs, parameters or literals need no kernel and
 * are not roots.
 */
export function planFusion(graph: Graph, limits: FusionLimits): FusionPlan {
  // A select reads three buffers and writes one, and no split can make that smaller.
  if (limits.maxStorageBuffers < MIN_STORAGE_BUFFERS) {
    throw new Error(`invalid target limits: maxStorageBuffers is ${limits.maxStorageBuffers}, expected at least ${MIN_STORAGE_BUFFERS}`);
  }
  const root = new Uint8Array(graph.nodes.length);
  const reasons: string[] = graph.nodes.map(() => '');
  for (const id of graph.outputs.values()) {
    if (isExternal(graph.node(id))) continue;
    root[id] = 1;
    reasons[id] = 'program output';
  }
  const consumers = consumerLists(graph);

  let unrootPasses = 0;
  for (let round = 0; ; round++) {
    if (round > graph.nodes.length + 10) throw new Error('internal error: fusion did not converge');
    const { analysis, changed } = analyze(graph, root, reasons);
    if (changed) continue;
    if (shareRoots(graph, root, reasons, consumers, analysis)) continue;
    if (splitWideKernels(graph, root, reasons, limits)) continue;
    if (unrootPasses < UNROOT_PASSES) {
      unrootPasses++;
      if (unrootStale(graph, root, reasons, consumers, limits)) continue;
    }
    return { root, reasons, recomputed: recomputedNodes(graph, root, consumers), content: analysis.content };
  }
}

/** Returns whether `root` is stable: no rule would add a root. */
function isStable(graph: Graph, root: Uint8Array, consumers: NodeId[][], limits: FusionLimits): boolean {
  const trial = root.slice();
  const scratch: string[] = graph.nodes.map(() => '');
  const { analysis, changed } = analyze(graph, trial, scratch);
  if (changed) return false;
  if (shareRoots(graph, trial, scratch, consumers, analysis)) return false;
  return !splitWideKernels(graph, trial, scratch, limits);
}

/**
 * Removes roots that an earlier round added for a reason that later roots made void (a light node
 * rooted because its operand then carried a core that has since got its own buffer). Returns
 * whether any root was removed.
 */
function unrootStale(graph: Graph, root: Uint8Array, reasons: string[], consumers: NodeId[][], limits: FusionLimits): boolean {
  let removed = false;
  for (let id = graph.nodes.length - 1; id >= 0; id--) {
    const node = graph.node(id);
    if (!root[id] || reasons[id] === 'program output' || isCore(node)) continue;
    root[id] = 0;
    if (isStable(graph, root, consumers, limits)) {
      reasons[id] = '';
      removed = true;
    } else {
      root[id] = 1;
    }
  }
  return removed;
}

function recomputedNodes(graph: Graph, root: Uint8Array, consumers: NodeId[][]): Map<NodeId, number> {
  const recomputed = new Map<NodeId, number>();
  owners(graph, root, consumers).forEach((set, id) => {
    const node = graph.node(id);
    if (!root[id] && !isExternal(node) && node.kind !== 'fill' && set.size > 1) recomputed.set(id, set.size);
  });
  return recomputed;
}

/** Makes a root of every node that several kernels would evaluate unless it is cheap and core-free. */
function shareRoots(graph: Graph, root: Uint8Array, reasons: string[], consumers: NodeId[][], analysis: Analysis): boolean {
  const ownerSets = owners(graph, root, consumers);
  let changed = false;
  graph.nodes.forEach((node, id) => {
    if (root[id] || isExternal(node) || node.kind === 'fill' || consumers[id]!.length === 0) return;
    if (ownerSets[id]!.size <= 1) return;
    const cheap = analysis.content[id]!.kind === 'none' && analysis.cost[id]! <= RECOMPUTE_LIMIT;
    if (!cheap) {
      root[id] = 1;
      reasons[id] = `read by ${ownerSets[id]!.size} kernels`;
      changed = true;
    }
  });
  return changed;
}

/**
 * Gives a buffer to the largest sub-expression of every kernel that binds more storage buffers than
 * the target allows (its reads plus its one output), so the kernel splits in two.
 */
function splitWideKernels(graph: Graph, root: Uint8Array, reasons: string[], limits: FusionLimits): boolean {
  let changed = false;
  graph.nodes.forEach((_, id) => {
    if (!root[id]) return;
    const { nodes, reads } = kernelMembers(graph, root, id);
    if (reads.length + 1 <= limits.maxStorageBuffers) return;
    // Pick the member below the root that reads the most buffers while leaving the root some.
    let best: NodeId | undefined;
    let bestReads = 0;
    for (const member of nodes) {
      if (member === id || graph.node(member).kind === 'fill') continue;
      const count = kernelMembers(graph, root, member).reads.length;
      if (count > bestReads && count < reads.length) {
        best = member;
        bestReads = count;
      }
    }
    if (best === undefined) {
      throw new Error(`internal error: kernel of %${id} reads ${reads.length} buffers and cannot be split`);
    }
    root[best] = 1;
    reasons[best] = `split from %${id}, which read ${reads.length} buffers`;
    changed = true;
  });
  return changed;
}
