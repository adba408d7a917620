// The reference target: runs graphs with the plain CPU executor.

import { type Graph, operands } from '../../src/ir/graph.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { isParallelConv, refThreadCount, startRefWorkers } from './parallel.ts';
import { runGraph } from './run.ts';

export { refThreadCount, refWorkerError, startRefWorkers } from './parallel.ts';
export { type RunOptions, runGraph } from './run.ts';

/** Returns whether some convolution of the graph is large enough to be split over worker threads. */
function hasParallelConv(graph: Graph): boolean {
  return graph.nodes.some((node) => {
    if (node.kind !== 'conv2d' && node.kind !== 'conv2dBackInput' && node.kind !== 'conv2dBackWeight') return false;
    const [a, b] = operands(node).map((id) => graph.shape(id));
    return isParallelConv(node.kind, a!, b!, node.shape);
  });
}

export const refTarget: Target = {
  name: 'ref',
  compile(graph: Graph, _name: string): CompiledProgram {
    // Start the worker threads now, so they are ready by the first run.
    if (refThreadCount() > 1 && hasParallelConv(graph)) void startRefWorkers();
    return {
      graph,
      run: async (feeds: TensorMap): Promise<TensorMap> => runGraph(graph, feeds),
    };
  },
};
