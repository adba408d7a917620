// The cpu target: WebAssembly SIMD kernels on a shared memory, run across worker threads.

import type { Graph } from '../../src/ir/graph.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { FusedCpuProgram } from './fused-program.ts';
import { CpuProgram, type Profile } from './program.ts';
import { cpuRuntime, defaultCpuThreads } from './runtime.ts';

export { defaultCpuThreads } from './runtime.ts';
export type { Profile } from './program.ts';

export interface CpuTargetOptions {
  /** Threads, the caller included; default SGAN_CPU_THREADS, else one per core. */
  threads?: number;
  /**
   * Runs the optimizer's fused kernels as generated WebAssembly (the default). False runs the
   * graph one node at a time, which the tests and benchmarks compare against.
   */
  fused?: boolean;
}

export interface CpuCompiledProgram extends CompiledProgram {
  /** Runs the graph and adds each op's wall-clock time in ms and node count to `profile`. */
  runProfiled(feeds: TensorMap, profile: Profile): Promise<TensorMap>;
}

export interface CpuTarget extends Target {
  readonly threads: number;
  readonly fused: boolean;
  compile(graph: Graph, name: string): CpuCompiledProgram;
}

/** Creates a cpu target. Targets with the same thread count share one memory and one set of workers. */
export function createCpuTarget(options: CpuTargetOptions = {}): CpuTarget {
  const threads = options.threads ?? defaultCpuThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`invalid thread count ${threads}: expected a positive integer`);
  const fused = options.fused ?? true;
  const runtime = cpuRuntime(threads);
  return {
    name: 'cpu',
    threads,
    fused,
    compile(graph: Graph, name: string): CpuCompiledProgram {
      const program = fused ? new FusedCpuProgram(graph, runtime, name) : new CpuProgram(graph, runtime);
      // Start assembling the kernels and the workers now, so they are ready by the first run.
      runtime.start().catch(() => undefined);
      return {
        graph,
        run: (feeds) => program.run(feeds),
        runProfiled: (feeds, profile) => program.run(feeds, profile),
      };
    },
  };
}
