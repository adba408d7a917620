// The cpu target's buffer plan: no buffer is overwritten while a later node still reads it.

import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { type Graph, numel, operands } from '../../src/ir/graph.ts';
import { buildDiscriminatorStep, buildGeneratorStep } from '../../src/layers/programs.ts';
import { planBuffers } from '../../targets/cpu/program.ts';

/** Returns the first conflict: a node whose buffer overlaps a buffer that some node read after it. */
function findConflict(graph: Graph): string | undefined {
  const plan = planBuffers(graph);
  const count = graph.nodes.length;
  const root = graph.nodes.map((_, id) => id);
  graph.nodes.forEach((node, id) => {
    if (node.kind === 'reshape') root[id] = root[node.x]!;
  });
  // The last node that reads each buffer (by its root), or Infinity for outputs.
  const lastRead = new Array<number>(count).fill(-1);
  graph.nodes.forEach((node, id) => {
    if (!plan.needed[id]) return;
    for (const operand of operands(node)) lastRead[root[operand]!] = Math.max(lastRead[root[operand]!]!, id);
  });
  for (const id of graph.outputs.values()) lastRead[root[id]!] = Infinity;

  const bytes = (id: number): number => Math.max(16, numel(graph.nodes[id]!.shape) * 4);
  const written: number[] = [];
  for (let id = 0; id < count; id++) {
    if (plan.address[id]! < 0 || root[id] !== id) continue;
    const start = plan.address[id]!;
    for (const other of written) {
      // `other` is still read at or after this node, so the two buffers must not overlap.
      if (lastRead[other]! < id) continue;
      const otherStart = plan.address[other]!;
      if (start < otherStart + bytes(other) && otherStart < start + bytes(id)) {
        return `node ${id} (${graph.nodes[id]!.kind}) overlaps node ${other}, read until ${lastRead[other]}`;
      }
    }
    if (start + bytes(id) > plan.scratch) return `node ${id} ends past the scratch region`;
    written.push(id);
  }
  return undefined;
}

describe('cpu buffer plan', () => {
  const spec = checkFile('examples/fashion-32.sgan').spec!;

  it('generator step has no overlapping live buffers', () => {
    expect(findConflict(buildGeneratorStep(spec, { stage: 16, batch: 2, fading: true }))).toBeUndefined();
  });

  it('discriminator step has no overlapping live buffers', () => {
    const graph = buildDiscriminatorStep(spec, { stage: 16, batch: 2, fading: true, r1Gamma: 10 });
    expect(findConflict(graph)).toBeUndefined();
  });

  it('reuses memory of dead buffers', () => {
    const graph = buildGeneratorStep(spec, { stage: 32, batch: 2, fading: false });
    const plan = planBuffers(graph);
    let total = 0;
    graph.nodes.forEach((node, id) => {
      if (plan.address[id]! >= 0 && node.kind !== 'reshape') total += numel(node.shape) * 4;
    });
    expect(plan.scratch).toBeLessThan(total / 2);
  });
});
