// The optimizer: graph passes, then fusion into kernels, scheduling and buffer planning. The
// driver calls one pass per step, so its body reads as the pipeline.

import { type Graph, opGroup } from '../ir/graph.ts';
import { printGraph } from '../ir/print.ts';
import { verifyGraph } from '../ir/verify.ts';
import { type FeedInfo, type FusedProgram, formatKernel, formatKernelHeader } from '../kernel/kernel.ts';
import { planBuffers } from './buffers.ts';
import { debugLevel, debugWrite, kernelSelected } from './debug.ts';
import { type FusionPlan, planFusion } from './fuse.ts';
import { eliminateCommonSubexpressions, eliminateDeadCode, simplify } from './passes.ts';
import { scheduleKernels, type TargetLimits, webgpuLimits } from './schedule.ts';

export { webgpuLimits, type TargetLimits } from './schedule.ts';
export { eliminateCommonSubexpressions, eliminateDeadCode, simplify } from './passes.ts';

export interface OptimizeOptions {
  /** Runs verifyGraph after every pass (always on when SGAN_DEBUG is set). */
  verify?: boolean;
  /** A label for debug output, such as the program name. */
  label?: string;
}

type Pass = (graph: Graph) => Graph;

/** Runs one pass, with the timing, IR dump and verification that SGAN_DEBUG and `verify` request. */
function runPass(name: string, pass: Pass, graph: Graph, options: OptimizeOptions): Graph {
  const level = debugLevel();
  const start = performance.now();
  const result = pass(graph);
  const ms = performance.now() - start;
  if (options.verify === true || level > 0) verifyGraph(result);
  if (level >= 1) {
    const label = options.label === undefined ? '' : `${options.label}: `;
    debugWrite(`[opt] ${label}${name}: ${graph.nodes.length} -> ${result.nodes.length} nodes in ${ms.toFixed(1)} ms`);
  }
  if (level >= 3) debugWrite(printGraph(result));
  return result;
}

/** Simplifies a graph: folding and algebra, CSE, another round of algebra on merged nodes, DCE. */
export function optimizeGraph(graph: Graph, options: OptimizeOptions = {}): Graph {
  let g = graph;
  g = runPass('simplify', simplify, g, options);
  g = runPass('cse', eliminateCommonSubexpressions, g, options);
  g = runPass('simplify', simplify, g, options);
  g = runPass('dce', eliminateDeadCode, g, options);
  return g;
}

export interface CompiledKernels {
  /** The optimized graph that the kernels compute. */
  graph: Graph;
  program: FusedProgram;
  /** The fusion decisions behind the kernels, with the reason each root got a buffer. */
  plan: FusionPlan;
}

/**
 * Optimizes `graph` and fuses it into kernels for a target with `limits` (WebGPU's by default),
 * with buffers planned by liveness.
 */
export function compileKernels(graph: Graph, limits: TargetLimits = webgpuLimits(), options: OptimizeOptions = {}): CompiledKernels {
  const optimized = optimizeGraph(graph, options);

  const start = performance.now();
  const plan = planFusion(optimized, limits);
  const { kernels, buffers, outputs } = scheduleKernels(optimized, plan, limits);
  const { peakBytes, liveBytes } = planBuffers(buffers, kernels, outputs.values());
  const feeds: FeedInfo[] = [];
  for (const node of optimized.nodes) {
    if (node.kind === 'input' || node.kind === 'param') feeds.push({ name: node.name, kind: node.kind, shape: node.shape });
  }
  const program: FusedProgram = { feeds, buffers, kernels, outputs, peakBytes, liveBytes };
  reportKernels(graph, program, plan, performance.now() - start, options);
  return { graph: optimized, program, plan };
}

function reportKernels(graph: Graph, program: FusedProgram, plan: FusionPlan, ms: number, options: OptimizeOptions): void {
  const level = debugLevel();
  if (level < 1) return;
  const label = options.label === undefined ? '' : `${options.label}: `;
  debugWrite(
    `[opt] ${label}fusion: ${primitiveOpCount(graph)} primitive ops -> ${program.kernels.length} kernels, ` +
      `peak ${program.peakBytes} bytes (live ${program.liveBytes}) in ${ms.toFixed(1)} ms`,
  );
  if (level >= 2) {
    for (const kernel of program.kernels) debugWrite(`  ${formatKernelHeader(kernel)}`);
    for (const [id, count] of plan.recomputed) debugWrite(`  recomputes %${id} in ${count} kernels`);
  }
  if (level >= 4) {
    for (const kernel of program.kernels) if (kernelSelected(kernel.name)) debugWrite(formatKernel(kernel));
  }
}

/** Counts the nodes other than inputs, parameters and constants, as the manifest does. */
export function primitiveOpCount(graph: Graph): number {
  return graph.nodes.filter((node) => opGroup(node) !== 'leaf').length;
}
