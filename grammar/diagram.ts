// Writes grammar/diagram.html, a railroad diagram of every grammar rule. Run with
// `npm run grammar:diagram`. The page loads Chevrotain's diagram scripts from this repository's
// node_modules (after npm install), so it opens without network access.
import { writeFileSync } from 'node:fs';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { sganParser } from './parser.ts';

const outPath = new URL('./diagram.html', import.meta.url);
const diagrams = '../node_modules/chevrotain/diagrams/';
const html = createSyntaxDiagramsCode(sganParser.getSerializedGastProductions(), {
  resourceBase: diagrams,
  css: `${diagrams}diagrams.css`,
});
writeFileSync(outPath, html);
console.log(`wrote ${outPath.pathname}`);
