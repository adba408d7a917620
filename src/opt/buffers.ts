// Buffer planning: places every kernel-written buffer at an offset of one arena so that buffers
// whose lifetimes overlap never share bytes, and buffers that are never live together may.

import type { BufferInfo, Kernel } from '../kernel/kernel.ts';

/** Offsets are multiples of this many bytes, WebGPU's default minStorageBufferOffsetAlignment. */
export const BUFFER_ALIGNMENT = 256;

export interface BufferPlan {
  /** Arena size in bytes: the end of the highest placed buffer. */
  peakBytes: number;
  /** The largest total size of buffers live at once, in bytes. */
  liveBytes: number;
}

/**
 * Sets `offset` on every buffer that a kernel writes and returns the arena size. A buffer lives
 * from the kernel that writes it to the last kernel that reads it, both included, so no kernel's
 * output overlaps its own inputs. Program outputs live to the end. Placement is greedy, largest
 * buffer first, at the lowest aligned offset that is free for the buffer's whole lifetime.
 */
export function planBuffers(buffers: BufferInfo[], kernels: Kernel[], outputBuffers: Iterable<number>): BufferPlan {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  kernels.forEach((kernel, k) => {
    for (const output of kernel.outputs) {
      first.set(output.buffer, k);
      last.set(output.buffer, k);
    }
    for (const input of kernel.inputs) if (last.has(input)) last.set(input, k);
  });
  for (const buffer of outputBuffers) if (first.has(buffer)) last.set(buffer, Infinity);

  const planned = buffers.filter((b) => first.has(b.id));
  const order = [...planned].sort((p, q) => q.bytes - p.bytes || p.id - q.id);
  const placed: { start: number; end: number; from: number; to: number }[] = [];
  let peakBytes = 0;
  for (const buffer of order) {
    const from = first.get(buffer.id)!;
    const to = last.get(buffer.id)!;
    const size = align(buffer.bytes);
    const conflicts = placed.filter((p) => p.from <= to && from <= p.to).sort((p, q) => p.start - q.start);
    let offset = 0;
    for (const other of conflicts) {
      if (offset + size <= other.start) break;
      offset = Math.max(offset, other.end);
    }
    buffer.offset = offset;
    placed.push({ start: offset, end: offset + size, from, to });
    peakBytes = Math.max(peakBytes, offset + size);
  }

  let liveBytes = 0;
  kernels.forEach((_, k) => {
    let live = 0;
    for (const buffer of planned) {
      if (first.get(buffer.id)! <= k && k <= last.get(buffer.id)!) live += align(buffer.bytes);
    }
    liveBytes = Math.max(liveBytes, live);
  });
  return { peakBytes, liveBytes };
}

function align(bytes: number): number {
  return Math.ceil(Math.max(bytes, 1) / BUFFER_ALIGNMENT) * BUFFER_ALIGNMENT;
}
