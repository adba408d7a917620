// Writes grammar/diagram.html, a railroad diagram of every grammar rule. Run with
// `npm run grammar:diagram`. The page loads Chevrotain's diagram scripts from unpkg.com when opened.
import { writeFileSync } from 'node:fs';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { sganParser } from './parser.ts';

const outPath = new URL('./diagram.html', import.meta.url);
writeFileSync(outPath, createSyntaxDiagramsCode(sganParser.getSerializedGastProductions()));
console.log(`wrote ${outPath.pathname}`);
