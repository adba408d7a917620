// Browser entry of the WebGL2 test: runs the test graph on the webgl target in its default browser
// mode and stores the mode and outputs (as plain arrays) in window.webglResult.

import { createWebglTarget } from '../../../targets/webgl/index.ts';
import { browserGraph } from './graph.ts';

declare global {
  interface Window {
    webglResult?: { mode: string; outputs: Record<string, number[]> } | { error: string };
  }
}

async function main(): Promise<void> {
  const { graph, feeds } = browserGraph();
  const target = createWebglTarget();
  const result = await target.compile(graph, 'browser').run(feeds);
  const outputs: Record<string, number[]> = {};
  for (const [name, tensor] of Object.entries(result)) outputs[name] = Array.from(tensor.data);
  window.webglResult = { mode: await target.mode(), outputs };
}

main().catch((error: unknown) => {
  window.webglResult = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
});
