// Kernel binding layouts. Inputs, parameters and literals live in one read-only feed arena, and
// kernel-written buffers in one read-write work arena, each buffer at its own offset. A kernel normally binds each buffer it touches as its own range of an arena. When that
// is more bindings than the device allows, the kernel binds each arena once, whole, and reads the
// buffers' element offsets from a uniform: the source is then the same for every offset plan.
// The code generator and the runtime both derive the bindings from this one function.

import type { BufferInfo, Kernel } from '../../src/kernel/kernel.ts';

export type Arena = 'feeds' | 'work';

/** One tensor a kernel reads or writes: an input (`in0`, ...) or an output (`out0`, ...). */
export interface TensorSlot {
  /** Buffer id in the program. */
  buffer: number;
  arena: Arena;
  /** The WGSL name of the tensor's binding (separate layout) or of its offset slot (packed layout). */
  name: string;
  output: boolean;
}

export interface SeparateLayout {
  kind: 'separate';
  /** Binding i of group 0 is slots[i]. */
  slots: TensorSlot[];
}

export interface PackedLayout {
  kind: 'packed';
  /** Offset slot i of the uniform is slots[i]. */
  slots: TensorSlot[];
  /** The arenas bound, in binding order; the uniform follows them. */
  arenas: Arena[];
}

export type KernelLayout = SeparateLayout | PackedLayout;

/** Returns the arena a buffer lives in, from its source. */
export function arenaOf(buffer: BufferInfo): Arena {
  return buffer.source.kind === 'kernel' ? 'work' : 'feeds';
}

/**
 * Chooses the layout of a kernel: one binding per tensor when they fit in `maxStorageBuffers`,
 * else the packed layout with at most two storage bindings and one uniform.
 */
export function kernelLayout(kernel: Kernel, buffers: readonly BufferInfo[], maxStorageBuffers: number): KernelLayout {
  const slots: TensorSlot[] = [];
  kernel.inputs.forEach((buffer, k) => slots.push({ buffer, arena: arenaOf(buffers[buffer]!), name: `in${k}`, output: false }));
  kernel.outputs.forEach((output, k) => slots.push({ buffer: output.buffer, arena: 'work', name: `out${k}`, output: true }));
  if (slots.length <= maxStorageBuffers) return { kind: 'separate', slots };
  const arenas: Arena[] = [];
  if (slots.some((slot) => slot.arena === 'feeds')) arenas.push('feeds');
  arenas.push('work');
  return { kind: 'packed', slots, arenas };
}
