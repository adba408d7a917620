// Writes the wgsl target's kernels for `sganc compile --target wgsl`: one WGSL file per kernel of
// every training-phase program, DIR/kernels/<program>_<stage>[_fading].<kernel>.wgsl, and
// DIR/kernels/index.json with each program's kernels in execution order, their bindings and
// dispatch, and the buffers with their arena offsets. The kernels are fused for WebGPU's default
// limits; the runtime fuses again for the limits of the device it runs on.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { phaseGraphs } from '../../src/emit/index.ts';
import type { BufferInfo } from '../../src/kernel/kernel.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { compileKernels, webgpuLimits } from '../../src/opt/index.ts';
import { arenaOf } from './bindings.ts';
import { programShaders } from './sources.ts';

interface BufferEntry {
  id: number;
  shape: number[];
  /** input, param, literal or kernel. */
  source: string;
  /** Feed name of inputs and parameters. */
  name?: string;
  /** Byte offset in the work arena, for kernel buffers. */
  offset?: number;
}

function describeBuffer(buffer: BufferInfo): BufferEntry {
  const entry: BufferEntry = { id: buffer.id, shape: [...buffer.shape], source: buffer.source.kind };
  if (buffer.source.kind === 'input' || buffer.source.kind === 'param') entry.name = buffer.source.name;
  if (arenaOf(buffer) === 'work') entry.offset = buffer.offset;
  return entry;
}

/** Writes the kernel files and kernels/index.json under `outDir`; returns the paths written. */
export function writeWgslKernels(spec: ModelSpec, outDir: string): string[] {
  const dir = join(outDir, 'kernels');
  mkdirSync(dir, { recursive: true });
  const limits = webgpuLimits();
  const written: string[] = [];
  const programs: unknown[] = [];
  for (const phase of phaseGraphs(spec)) {
    const label = `${phase.name}_${phase.stage}${phase.fading ? '_fading' : ''}`;
    const { program } = compileKernels(phase.graph, limits, { label });
    const shaders = programShaders(program, limits);
    const kernels = shaders.map((shader) => {
      const file = `${label}.${shader.name}.wgsl`;
      writeFileSync(join(dir, file), shader.source);
      written.push(join(dir, file));
      return {
        name: shader.name,
        file,
        layout: shader.layout.kind,
        bindings: shader.layout.slots.map((slot) => `b${slot.buffer}`),
        workgroups: shader.workgroups,
      };
    });
    programs.push({
      program: phase.name,
      stage: phase.stage,
      fading: phase.fading,
      batch: phase.batch,
      workArenaBytes: program.peakBytes,
      buffers: program.buffers.map(describeBuffer),
      outputs: Object.fromEntries([...program.outputs].map(([name, buffer]) => [name, `b${buffer}`])),
      kernels,
    });
  }
  const index = join(dir, 'index.json');
  writeFileSync(index, JSON.stringify({ model: spec.name, limits, programs }, null, 2) + '\n');
  written.push(index);
  return written;
}
