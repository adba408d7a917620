// `sganc graph`: the layer graph of one network as it runs at one stage of progressive growing,
// with every layer's output shape, as text or Graphviz dot.
import { describeLayer, layerName, layerOutputShape, type FeatureShape } from '../../check/layer-shapes.ts';
import type { Layer, ModelSpec, NetworkName } from '../../model/spec.ts';
import { loadModelOrExit } from '../load.ts';
import { reportUsageError } from '../usage.ts';
import { attachNegativeValues, parseCommandLine } from '../../runtime/train/options.ts';

export const graphHelp = `Usage: sganc graph FILE --network NET --stage RES [--format text|dot]

Prints the layers of one network of the model in FILE as it runs at stage RES of progressive
growing, with the output shape of every layer (without the batch axis N). Above the first stage the
synthesis network and the discriminator also show the fade-in path from the previous stage.

Options:
  --network NET    mapping, synthesis, generator (mapping, then synthesis with w feeding every
                   style layer) or discriminator
  --stage RES      stage resolution in pixels, such as 32; required for synthesis and discriminator,
                   ignored for mapping
  --format FMT     text (default) or dot (Graphviz)
  -h, --help       print this help`;

type GraphNetwork = NetworkName | 'generator';

const networks: GraphNetwork[] = ['mapping', 'synthesis', 'generator', 'discriminator'];

/** One layer of the printed graph; `path` is 'main' or 'fade'. */
export interface GraphNode {
  id: number;
  path: 'main' | 'fade';
  section: string;
  op: string;
  name: string;
  shape: FeatureShape;
}

export interface LayerGraph {
  title: string;
  nodes: GraphNode[];
  /** Pairs of node ids. */
  edges: [number, number][];
}

export function graphCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: attachNegativeValues(argv),
      allowPositionals: true,
      options: {
        network: { type: 'string' },
        stage: { type: 'string' },
        format: { type: 'string', default: 'text' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${graphHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) return usageError(`expected one model file, got ${positionals.length} arguments`);
  const network = values.network as GraphNetwork | undefined;
  if (network === undefined || !networks.includes(network)) {
    const given = values.network === undefined ? 'nothing' : `'${values.network}'`;
    return usageError(`--network must be one of ${networks.join(', ')}, got ${given}`);
  }
  if (values.format !== 'text' && values.format !== 'dot') {
    return usageError(`--format must be text or dot, got '${values.format}'`);
  }
  if (network !== 'mapping' && values.stage === undefined) return usageError(`--stage is required for the ${network} network`);

  const spec = loadModelOrExit(positionals[0]!);
  const resolutions = spec.synthesis.stages.map((s) => s.res);
  const stage = Number(values.stage ?? resolutions[0]);
  if (network !== 'mapping' && !resolutions.includes(stage)) {
    const stages = resolutions.join(', ');
    process.stderr.write(`sganc graph: stage ${values.stage} is not a stage of model ${spec.name}; its stages are ${stages}\n`);
    return 1;
  }
  const graph = buildLayerGraph(spec, network, stage);
  process.stdout.write(values.format === 'dot' ? formatDot(graph) : formatText(graph));
  return 0;
}

/** Builds the graph of `network` at stage `stage` (ignored for the mapping network). */
export function buildLayerGraph(spec: ModelSpec, network: GraphNetwork, stage: number): LayerGraph {
  const builder = new GraphBuilder();
  if (network === 'mapping') {
    addMapping(builder, spec);
    return { title: `mapping network of ${spec.name}`, ...builder.result() };
  }
  if (network === 'synthesis') {
    addSynthesis(builder, spec, stage);
    return { title: `synthesis network of ${spec.name} at stage ${stage}`, ...builder.result() };
  }
  if (network === 'generator') {
    const w = addMapping(builder, spec);
    const first = builder.result().nodes.length;
    addSynthesis(builder, spec, stage);
    // w is not on the synthesis path: it reaches every style layer through that layer's affine map.
    for (const node of builder.result().nodes.slice(first)) if (builder.isStyleLayer(node.id)) builder.edge(w, node.id);
    return { title: `generator of ${spec.name} at stage ${stage}`, ...builder.result() };
  }

  const stages = spec.discriminator.stages.filter((s) => s.res <= stage);
  const first = stages[0]!;
  const image = builder.add('main', 'input', 'image', '', [spec.imageChannels, stage, stage]);
  let x = builder.addLayers(image, 'main', `b${first.res}`, first.fromrgb);
  stages.forEach((s, i) => {
    x = builder.addLayers(x, 'main', `b${s.res}`, s.layers);
    const next = stages[i + 1];
    if (i === 0 && next !== undefined) {
      let fade = builder.addLayers(image, 'fade', 'fade', [{ kind: 'downsample' }]);
      fade = builder.addLayers(fade, 'fade', `b${next.res}`, next.fromrgb);
      const lerp = builder.add('main', 'fade', 'lerp(fade, main, alpha)', '', builder.shapeOf(x));
      builder.edge(x, lerp);
      builder.edge(fade, lerp);
      x = lerp;
    }
  });
  return { title: `discriminator of ${spec.name} at stage ${stage}`, ...builder.result() };
}

/** Adds the mapping network from z and returns the id of its last node, w. */
function addMapping(builder: GraphBuilder, spec: ModelSpec): number {
  const z = builder.add('main', 'input', 'z', 'z', [spec.zDim]);
  return builder.addLayers(z, 'main', 'mapping', spec.mapping.layers);
}

/** Adds the synthesis network at `stage`, with the fade-in path from the previous stage. */
function addSynthesis(builder: GraphBuilder, spec: ModelSpec, stage: number): void {
  const { constant, stages } = spec.synthesis;
  let x = builder.add('main', 'input', 'const', constant.param, [constant.channels, constant.size, constant.size]);
  let previous: number | undefined;
  for (const s of stages.filter((s) => s.res <= stage)) {
    previous = x;
    x = builder.addLayers(x, 'main', `b${s.res}`, s.layers);
  }
  const current = stages.find((s) => s.res === stage)!;
  const image = builder.addLayers(x, 'main', `b${stage}`, current.torgb);
  const older = stages.find((s) => s.res === stage / 2);
  if (older !== undefined && previous !== undefined) {
    let fade = builder.addLayers(previous, 'fade', `b${older.res}`, older.torgb);
    fade = builder.addLayers(fade, 'fade', 'fade', [{ kind: 'upsample', mode: 'nearest' }]);
    const lerp = builder.add('main', 'fade', 'lerp(fade, main, alpha)', '', builder.shapeOf(image));
    builder.edge(image, lerp);
    builder.edge(fade, lerp);
  }
}

class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly edges: [number, number][] = [];
  private readonly styleLayers = new Set<number>();

  add(path: GraphNode['path'], section: string, op: string, name: string, shape: FeatureShape): number {
    const id = this.nodes.length;
    this.nodes.push({ id, path, section, op, name, shape });
    return id;
  }

  edge(from: number, to: number): void {
    this.edges.push([from, to]);
  }

  shapeOf(id: number): FeatureShape {
    return this.nodes[id]!.shape;
  }

  /** Chains `layers` after node `from`; returns the last node's id. */
  addLayers(from: number, path: GraphNode['path'], section: string, layers: Layer[]): number {
    let current = from;
    for (const layer of layers) {
      const next = this.add(
        path,
        section,
        describeLayer(layer),
        layerName(layer),
        layerOutputShape(layer, this.shapeOf(current)),
      );
      this.edge(current, next);
      if (layer.kind === 'adain') this.styleLayers.add(next);
      current = next;
    }
    return current;
  }

  /** Returns whether node `id` is a layer that reads a style (AdaIN). */
  isStyleLayer(id: number): boolean {
    return this.styleLayers.has(id);
  }

  result(): { nodes: GraphNode[]; edges: [number, number][] } {
    return { nodes: this.nodes, edges: this.edges };
  }
}

function formatShape(shape: FeatureShape): string {
  return `[N, ${shape.join(', ')}]`;
}

export function formatText(graph: LayerGraph): string {
  const columns = ['#', 'path', 'section', 'layer', 'name', 'output'];
  const rows = graph.nodes.map((n) => [String(n.id), n.path, n.section, n.op, n.name || '-', formatShape(n.shape)]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const inputs = new Map<number, number[]>();
  for (const [from, to] of graph.edges) inputs.set(to, [...(inputs.get(to) ?? []), from]);
  const joins = graph.nodes.filter((n) => (inputs.get(n.id)?.length ?? 0) > 1);
  const merges = joins.map((n) => `node ${n.id} takes nodes ${inputs.get(n.id)!.join(' and ')}`);
  const notes = merges.length === 0 ? '' : `\n${merges.join('\n')}\n`;
  return `${graph.title}\n\n${line(columns)}\n${rows.map(line).join('\n')}\n${notes}`;
}

export function formatDot(graph: LayerGraph): string {
  const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const lines = [`digraph "${escape(graph.title)}" {`, '  node [shape=box, fontname="monospace"];'];
  for (const n of graph.nodes) {
    // Dot reads the two characters \n inside a quoted label as a line break.
    const label = [n.name || n.section, n.op, formatShape(n.shape)].map(escape).join('\\n');
    const style = n.path === 'fade' ? ', style=dashed' : '';
    lines.push(`  n${n.id} [label="${label}"${style}];`);
  }
  for (const [from, to] of graph.edges) lines.push(`  n${from} -> n${to};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function usageError(message: string): number {
  return reportUsageError('graph', message);
}
