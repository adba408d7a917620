// The reference target: runs graphs with the plain CPU executor.

import type { Graph } from '../../src/ir/graph.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { runGraph } from './run.ts';

export { runGraph } from './run.ts';

export const refTarget: Target = {
  name: 'ref',
  compile(graph: Graph, _name: string): CompiledProgram {
    return {
      graph,
      run: async (feeds: TensorMap): Promise<TensorMap> => runGraph(graph, feeds),
    };
  },
};
