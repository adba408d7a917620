// The compiler front end as the page runs it: check, format, and the three graph levels of one
// network at one stage (layers, primitive ops, fused kernels).
import { checkSource, type CheckResult } from '../../src/check/index.ts';
import { buildLayerGraph } from '../../src/cli/commands/graph.ts';
import { formatShape, type Graph, operands } from '../../src/ir/graph.ts';
import { formatNodeBody } from '../../src/ir/print.ts';
import { formatKernel, type FusedProgram } from '../../src/kernel/kernel.ts';
import { formatSource } from '../../src/frontend/format.ts';
import { buildDiscriminator, buildMapping, buildSynthesis } from '../../src/layers/programs.ts';
import type { ModelSpec, NetworkName } from '../../src/model/spec.ts';
import { compileKernels } from '../../src/opt/index.ts';

export type GraphLevel = 'layers' | 'ops' | 'kernels';

/** A node of a drawn graph. `group` picks the colour and `lane` the column (0 main path, 1 fade-in). */
export interface DrawNode {
  id: number;
  title: string;
  detail: string;
  group: string;
  lane: number;
}

export interface DrawGraph {
  title: string;
  nodes: DrawNode[];
  /** Pairs of node ids, producer first. */
  edges: [number, number][];
}

/** Checks model text; `file` names it in diagnostics. Imports resolve against the bundled stdlib. */
export function analyzeSource(text: string, file: string): CheckResult {
  return checkSource(text, file);
}

/** Formats model text with the `sganc fmt` formatter; returns undefined when it has syntax errors. */
export function formatModel(text: string, file: string): string | undefined {
  return formatSource(text, file).text;
}

/** Stages of `network` that the graph view offers; the mapping network has no stages. */
export function stagesOf(spec: ModelSpec, network: NetworkName): number[] {
  if (network === 'mapping') return [];
  return spec.synthesis.stages.map((stage) => stage.res);
}

/**
 * Builds the primitive graph of one network at one stage with batch 1. Above the first stage the
 * graph includes the fade-in path, as the layer view shows it.
 */
export function buildPrimitiveGraph(spec: ModelSpec, network: NetworkName, stage: number): Graph {
  const fading = stage > spec.synthesis.stages[0]!.res;
  if (network === 'mapping') return buildMapping(spec, { batch: 1 });
  if (network === 'synthesis') return buildSynthesis(spec, { stage, batch: 1, fading, noise: 'input' });
  return buildDiscriminator(spec, { stage, batch: 1, fading });
}

export function layerDrawGraph(spec: ModelSpec, network: NetworkName, stage: number): DrawGraph {
  const graph = buildLayerGraph(spec, network, stage);
  const nodes = graph.nodes.map((node) => ({
    id: node.id,
    title: node.name === '' ? node.op : `${node.name}: ${node.op}`,
    detail: `[N, ${node.shape.join(', ')}]`,
    group: node.section === 'input' ? 'input' : node.op.split(/[\s(]/)[0]!,
    lane: node.path === 'fade' ? 1 : 0,
  }));
  return { title: graph.title, nodes, edges: graph.edges };
}

export function opDrawGraph(graph: Graph, title: string): DrawGraph {
  const nodes = graph.nodes.map((node, id) => ({
    id,
    title: `%${id} ${node.kind === 'input' || node.kind === 'param' ? `${node.kind} ${node.name}` : node.kind}`,
    detail: `${formatNodeBody(node).slice(0, 48)} ${formatShape(node.shape)}`,
    group: node.kind,
    lane: 0,
  }));
  const edges: [number, number][] = [];
  graph.nodes.forEach((node, id) => {
    for (const operand of operands(node)) edges.push([operand, id]);
  });
  return { title, nodes, edges };
}

/** Builds one node per kernel, and an edge where a kernel reads a buffer that another kernel writes. */
export function kernelDrawGraph(program: FusedProgram, title: string): DrawGraph {
  const writer = new Map<number, number>();
  program.kernels.forEach((kernel, k) => {
    for (const output of kernel.outputs) writer.set(output.buffer, k);
  });
  const nodes = program.kernels.map((kernel, k) => ({
    id: k,
    title: kernel.name,
    detail: `${kernel.kind} ${formatShape(kernel.shape)}, ${kernel.exprs.length} exprs`,
    group: kernel.kind,
    lane: 0,
  }));
  const edges: [number, number][] = [];
  program.kernels.forEach((kernel, k) => {
    for (const buffer of new Set(kernel.inputs)) {
      const from = writer.get(buffer);
      if (from !== undefined) edges.push([from, k]);
    }
  });
  return { title, nodes, edges };
}

export interface NetworkView {
  graph: DrawGraph;
  /** The fused program, present for the kernels level. */
  program?: FusedProgram;
  /** Text form of each kernel (`formatKernel`), by kernel index, for the kernels level. */
  kernelText?: string[];
  /** The optimized primitive graph the kernels compute, for the kernels level. */
  optimized?: Graph;
}

/** Builds what the graph view draws for one network, stage and level. */
export function buildNetworkView(spec: ModelSpec, network: NetworkName, stage: number, level: GraphLevel): NetworkView {
  const where = network === 'mapping' ? `the mapping network of ${spec.name}` : `${network} of ${spec.name} at stage ${stage}`;
  if (level === 'layers') return { graph: layerDrawGraph(spec, network, stage) };
  const primitive = buildPrimitiveGraph(spec, network, stage);
  if (level === 'ops') return { graph: opDrawGraph(primitive, `primitive ops of ${where}`) };
  const compiled = compileKernels(primitive);
  const kernelText = compiled.program.kernels.map((kernel) => formatKernel(kernel));
  return {
    graph: kernelDrawGraph(compiled.program, `fused kernels of ${where}`),
    program: compiled.program,
    kernelText,
    optimized: compiled.graph,
  };
}
