// The WGSL sources of a compiled program, shared by the runtime, `sganc compile` and the playground.

import type { Graph } from '../../src/ir/graph.ts';
import type { FusedProgram } from '../../src/kernel/kernel.ts';
import { compileKernels, type TargetLimits, webgpuLimits } from '../../src/opt/index.ts';
import { kernelLayout, type KernelLayout } from './bindings.ts';
import { kernelSource } from './shader.ts';

export interface KernelShader {
  /** The kernel's name, also the shader module's label. */
  name: string;
  source: string;
  layout: KernelLayout;
}

/** Returns one shader per kernel of `program`, with `maxStorageBuffers` storage bindings per kernel at most. */
export function programShaders(program: FusedProgram, maxStorageBuffers: number): KernelShader[] {
  return program.kernels.map((kernel) => {
    const layout = kernelLayout(kernel, program.buffers, maxStorageBuffers);
    return { name: kernel.name, source: kernelSource(kernel, program.buffers, layout), layout };
  });
}

/** Fuses `graph` for `limits` (WebGPU's defaults unless given) and returns the WGSL source of each kernel. */
export function wgslKernelSources(graph: Graph, limits: TargetLimits = webgpuLimits()): { name: string; source: string }[] {
  const { program } = compileKernels(graph, limits);
  return programShaders(program, limits.maxStorageBuffers).map(({ name, source }) => ({ name, source }));
}
