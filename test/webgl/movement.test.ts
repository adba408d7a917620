// Composed movement chains on the webgl target, in headless-gl and in gpu.js cpu mode: each chain
// reads its innermost operand through one index map, and the results must equal the reference
// executor's bit for bit.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { webglKernelSources } from '../../targets/webgl/index.ts';
import { applyMovement, MOVEMENT_CASES, movementChains } from '../ops/movement-cases.ts';
import { buildGraph, expectExact, MODES, randomFeeds } from './helpers.ts';

describe('webgl movement chains', () => {
  it('chain splits the index once', () => {
    const [first] = MOVEMENT_CASES;
    const [kernel] = webglKernelSources(buildGraph(first!.inputs, first!.build));
    // x is read at the output's own index, so the only divisions are the chain's: 3 for the 4
    // axes. Splitting the index once per movement would take 3 in each of the slice, the pad, the
    // flip and the permute.
    expect(kernel!.source.match(/Math\.floor/g)).toHaveLength(3);
  });

  it('padding-only chain reads nothing', () => {
    const padding = MOVEMENT_CASES.find((c) => c.name === 'broadcast of padding only')!;
    const [kernel] = webglKernelSources(buildGraph(padding.inputs, padding.build));
    expect(kernel!.source).not.toContain('a1[');
  });
});

for (const { mode, skip } of MODES) {
  describe.skipIf(skip)(`webgl ${mode} movement chains (exact)`, () => {
    for (const [k, c] of MOVEMENT_CASES.entries()) {
      it(`${c.name}`, async () => {
        const graph = buildGraph(c.inputs, c.build);
        await expectExact(graph, randomFeeds(graph, 50 + k), mode);
      });
    }

    it('random chains', async () => {
      await fc.assert(
        fc.asyncProperty(movementChains(5), async ({ shape, movements }) => {
          const graph = buildGraph({ y: shape }, (b, x) => {
            const moved = movements.reduce((node, m) => applyMovement(b, node, m), x.y!);
            // The add keeps the chain inside a kernel instead of copying it to the output buffer.
            return b.add(moved, b.fill(b.shape(moved), 0.5));
          });
          await expectExact(graph, randomFeeds(graph, 7), mode);
        }),
        { numRuns: 12, seed: 11 },
      );
    });
  });
}
