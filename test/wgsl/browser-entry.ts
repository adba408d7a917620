// The page script of the Chromium test: rebuilds a graph sent as JSON and runs it on the wgsl
// target through navigator.gpu. Bundled with esbuild for the browser.

import { Graph, type Node } from '../../src/ir/graph.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { createWgslTarget } from '../../targets/wgsl/index.ts';

/** A graph with literal data as plain arrays, and feeds likewise, as the test server sends them. */
export interface GraphMessage {
  nodes: (Node & { data?: number[] })[];
  outputs: [string, number][];
  feeds: Record<string, { shape: number[]; data: number[] }>;
}

async function runMessage(message: GraphMessage): Promise<Record<string, number[]>> {
  const graph = new Graph();
  for (const node of message.nodes) graph.add(node.kind === 'literal' ? { ...node, data: Float32Array.from(node.data) } : node);
  for (const [name, id] of message.outputs) graph.setOutput(name, id);
  const feeds: TensorMap = {};
  for (const [name, feed] of Object.entries(message.feeds)) feeds[name] = { shape: feed.shape, data: Float32Array.from(feed.data) };
  const result = await createWgslTarget().compile(graph, 'browser').run(feeds);
  return Object.fromEntries(Object.entries(result).map(([name, tensor]) => [name, [...tensor.data]]));
}

(globalThis as { runGraphMessage?: typeof runMessage }).runGraphMessage = runMessage;
