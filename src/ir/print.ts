// A text form of the primitive graph, one line per node, for debugging (SGAN_DEBUG=3) and for
// verifier messages.

import { assertNever, formatShape, type Graph, type Node, type NodeId, operands } from './graph.ts';

function ref(id: NodeId): string {
  return `%${id}`;
}

function list(values: readonly number[]): string {
  return `[${values.join(',')}]`;
}

/** The largest literal printed in full; longer ones print their length only. */
const LITERAL_PRINT_LIMIT = 16;

/** Formats the right-hand side of a node's line, without the shape: `conv2d(%3, %7) stride=1 ...`. */
export function formatNodeBody(node: Node): string {
  switch (node.kind) {
    case 'input':
    case 'param':
      return `${node.kind} ${JSON.stringify(node.name)}`;
    case 'fill':
      return `fill ${node.value}`;
    case 'literal':
      return node.data.length <= LITERAL_PRINT_LIMIT
        ? `literal [${Array.from(node.data).join(', ')}]`
        : `literal (${node.data.length} values)`;
    case 'unary':
      return node.op === 'lrelu' || node.op === 'lreluGrad'
        ? `${node.op}(${ref(node.x)}) slope=${node.slope}`
        : `${node.op}(${ref(node.x)})`;
    case 'binary':
      return `${node.op}(${ref(node.a)}, ${ref(node.b)})`;
    case 'select':
      return `select(${ref(node.cond)}, ${ref(node.a)}, ${ref(node.b)})`;
    case 'reduce':
      return `${node.op === 'sum' ? 'reduceSum' : 'reduceMax'}(${ref(node.x)}) axes=${list(node.axes)} keepDims=${node.keepDims}`;
    case 'reshape':
    case 'broadcast':
      return `${node.kind}(${ref(node.x)})`;
    case 'permute':
      return `permute(${ref(node.x)}) perm=${list(node.perm)}`;
    case 'pad':
      return `pad(${ref(node.x)}) low=${list(node.low)} high=${list(node.high)} interior=${list(node.interior)}`;
    case 'slice':
      return `slice(${ref(node.x)}) start=${list(node.start)} end=${list(node.end)} step=${list(node.step)}`;
    case 'flip':
      return `flip(${ref(node.x)}) axes=${list(node.axes)}`;
    case 'matmul':
      return `matmul(${ref(node.a)}, ${ref(node.b)})`;
    case 'conv2d':
    case 'conv2dBackWeight':
    case 'conv2dBackInput': {
      const args = operands(node).map(ref).join(', ');
      const { stride, padding, groups } = node.attrs;
      return `${node.kind}(${args}) stride=${stride} pad=${list(padding)} groups=${groups}`;
    }
    case 'randn':
      return `randn(${ref(node.key)}) stream=${node.stream}`;
    default:
      return assertNever(node);
  }
}

/** Formats one node's line: `%12 = conv2d(%3, %7) stride=1 pad=[1,1,1,1] groups=1 : [8, 64, 16, 16]`. */
export function formatNode(node: Node, id: NodeId): string {
  return `${ref(id)} = ${formatNodeBody(node)} : ${formatShape(node.shape)}`;
}

/** Formats the whole graph: one line per node in array order, then one line per output. */
export function printGraph(graph: Graph): string {
  const lines = graph.nodes.map((node, id) => formatNode(node, id));
  for (const [name, id] of graph.outputs) lines.push(`output ${JSON.stringify(name)} = ${ref(id)}`);
  return lines.join('\n') + '\n';
}
