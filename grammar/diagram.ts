// Writes grammar/diagram.html, a railroad diagram of every grammar rule. Run with
// `npm run grammar:diagram`. The page loads Chevrotain's diagram scripts from this repository's
// node_modules (after npm install), so it opens without network access.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSyntaxDiagramsCode } from 'chevrotain';
import { sganParser } from './parser.ts';

/** Returns the diagram page's HTML, with script and style paths relative to grammar/. */
export function diagramHtml(): string {
  const diagrams = '../node_modules/chevrotain/diagrams/';
  return createSyntaxDiagramsCode(sganParser.getSerializedGastProductions(), {
    resourceBase: diagrams,
    css: `${diagrams}diagrams.css`,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outPath = new URL('./diagram.html', import.meta.url);
  writeFileSync(outPath, diagramHtml());
  console.log(`wrote ${outPath.pathname}`);
}
