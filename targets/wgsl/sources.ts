// The WGSL sources of a compiled program, shared by the runtime, `sganc compile` and the playground.

import type { Graph } from '../../src/ir/graph.ts';
import type { FusedProgram } from '../../src/kernel/kernel.ts';
import { compileKernels, type TargetLimits, webgpuLimits } from '../../src/opt/index.ts';
import { kernelLayout, type KernelLayout } from './bindings.ts';
import { kernelSource } from './shader.ts';
import { tiledPlan } from './tiled.ts';

export interface KernelShader {
  /** The kernel's name, also the shader module's label. */
  name: string;
  source: string;
  layout: KernelLayout;
  /** Workgroups to dispatch in x, y and z. */
  workgroups: [number, number, number];
}

/**
 * Returns one shader per kernel of `program`: at most `limits.maxStorageBuffers` storage bindings
 * per kernel, and tiles that fit the workgroup limits.
 */
export function programShaders(program: FusedProgram, limits: TargetLimits): KernelShader[] {
  return program.kernels.map((kernel) => {
    const layout = kernelLayout(kernel, program.buffers, limits.maxStorageBuffers);
    const tiled = tiledPlan(kernel, limits);
    const source = kernelSource(kernel, program.buffers, layout, tiled);
    return { name: kernel.name, source, layout, workgroups: tiled?.workgroups ?? kernel.dispatch.workgroups };
  });
}

/** Fuses `graph` for `limits` (WebGPU's defaults unless given) and returns the WGSL source of each kernel. */
export function wgslKernelSources(graph: Graph, limits: TargetLimits = webgpuLimits()): { name: string; source: string }[] {
  const { program } = compileKernels(graph, limits);
  return programShaders(program, limits).map(({ name, source }) => ({ name, source }));
}
