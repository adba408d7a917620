// Empty tensors on the wgsl target. WebGPU rejects zero-size bindings, so an empty tensor binds 4
// bytes, and its arena must extend 4 bytes past its offset even when it is the arena's last tensor.

import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { compileKernels } from '../../src/opt/index.ts';
import { wgsl } from './helpers.ts';

/** x [80] then the empty e [0, 3]: e is the last feed, at the offset where x's aligned slot ends. */
function buildProgram(): Builder {
  const b = new Builder();
  const x = b.input('x', [80]);
  const e = b.input('e', [0, 3]);
  b.output('out', b.add(x, x));
  b.output('empty', b.add(e, e));
  return b;
}

describe('wgsl empty tensors', () => {
  it('empty feed is the last one', () => {
    const limits = { maxStorageBuffers: 8, maxWorkgroupBytes: 16384, maxInvocations: 256, maxWorkgroupsPerDimension: 65535 };
    const { program } = compileKernels(buildProgram().graph, limits, { label: 'empty' });
    const feeds = program.buffers.filter((buffer) => buffer.source.kind === 'input');
    expect(feeds.map((buffer) => buffer.bytes)).toEqual([320, 0]);
  });

  it('runs with an empty last feed', async () => {
    const x = Float32Array.from({ length: 80 }, (_, i) => i - 40);
    const result = await wgsl.compile(buildProgram().graph, 'empty').run({
      x: { shape: [80], data: x },
      e: { shape: [0, 3], data: new Float32Array(0) },
    });
    expect(Array.from(result.out!.data)).toEqual(Array.from(x, (v) => 2 * v));
    expect(result.empty!.shape).toEqual([0, 3]);
    expect(result.empty!.data.length).toBe(0);
  });
});
