// The checked-in typed CST and railroad diagram match the grammar, so `npm run grammar:dts` and
// `npm run grammar:diagram` were run after the last grammar change.
import { readFileSync } from 'node:fs';
import { generateCstDts } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { diagramHtml } from '../../grammar/diagram.ts';
import { sganParser } from '../../grammar/parser.ts';

describe('generated grammar files', () => {
  it('cst.d.ts is up to date', () => {
    const generated = generateCstDts(sganParser.getGAstProductions());
    const checkedIn = readFileSync('grammar/cst.d.ts', 'utf8');
    expect(checkedIn.endsWith(generated)).toBe(true);
  });

  it('diagram.html is up to date', () => {
    expect(readFileSync('grammar/diagram.html', 'utf8')).toBe(diagramHtml());
  });
});
