// Composed movement chains on the wgsl target: each chain reads its innermost operand through one
// index map, and the results must equal the reference executor's bit for bit.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGraph, randomFeeds } from '../cpu/helpers.ts';
import { expectExact } from './helpers.ts';
import { applyMovement, MOVEMENT_CASES, movementChains } from '../ops/movement-cases.ts';
import { wgslKernelSources } from '../../targets/wgsl/index.ts';

describe('wgsl movement chains (exact)', () => {
  for (const [k, c] of MOVEMENT_CASES.entries()) {
    it(`${c.name}`, async () => {
      const graph = buildGraph(c.inputs, c.build);
      await expectExact(graph, randomFeeds(graph, 50 + k));
    });
  }

  it('inner movements get no function', () => {
    const [first] = MOVEMENT_CASES;
    const sources = wgslKernelSources(buildGraph(first!.inputs, first!.build));
    expect(sources).toHaveLength(1);
    // One function is for the output (the add) and one for the loaded y that the chain reads.
    // Without composition, the slice, pad, flip and permute each read the next through a function.
    expect(sources[0]!.source.match(/^fn expr\d+/gm)).toHaveLength(2);
  });

  it('padding-only chain reads nothing', () => {
    const padding = MOVEMENT_CASES.find((c) => c.name === 'broadcast of padding only')!;
    const [kernel] = wgslKernelSources(buildGraph(padding.inputs, padding.build));
    expect(kernel!.source.match(/^fn expr\d+/gm)).toHaveLength(1);
    expect(kernel!.source).not.toContain('in1[');
  });

  it('random chains', async () => {
    await fc.assert(
      fc.asyncProperty(movementChains(5), async ({ shape, movements }) => {
        const graph = buildGraph({ y: shape }, (b, x) => {
          const moved = movements.reduce((node, m) => applyMovement(b, node, m), x.y!);
          // The add keeps the chain inside a kernel instead of copying it to the output buffer.
          return b.add(moved, b.fill(b.shape(moved), 0.5));
        });
        await expectExact(graph, randomFeeds(graph, 7));
      }),
      { numRuns: 12, seed: 11 },
    );
  });
});
