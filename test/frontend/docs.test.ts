// The examples of docs/language.md: every `sgan` code block parses, and every one that declares
// all three networks checks without diagnostics.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../../src/check/index.ts';
import { parseSource } from '../../src/frontend/parse.ts';

const text = readFileSync('docs/language.md', 'utf8');
const examples = [...text.matchAll(/```sgan\n([\s\S]*?)```/g)].map((match) => match[1]!);

describe('language reference examples', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
  });

  examples.forEach((example, i) => {
    const firstLine = example.split('\n').find((line) => line.trim() !== '' && !line.startsWith('import')) ?? example.split('\n')[0]!;
    it(`example ${i + 1}: ${firstLine.trim()}`, () => {
      expect(parseSource(example, `docs/language.md#${i + 1}`).diagnostics).toEqual([]);
      const complete = ['mapping', 'synthesis {', 'discriminator {'].every((word) => example.includes(word));
      if (complete) {
        const result = checkSource(example, `docs/example-${i + 1}.sgan`);
        expect(result.diagnostics).toEqual([]);
        expect(result.spec).toBeDefined();
      }
    });
  });
});
