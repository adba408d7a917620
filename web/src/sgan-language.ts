// The .sgan language mode of the editor: a stream tokenizer that colours the same token classes as
// the Chevrotain lexer (grammar/tokens.ts) defines, using its keyword list so the two cannot drift.
import { StreamLanguage, type StringStream } from '@codemirror/language';
import { keywordSpellings } from '../../grammar/tokens.ts';
import { layerOps } from '../../src/frontend/ast.ts';

/** Words that open a declaration or a section; the other keywords are settings. */
const structureWords = new Set([
  'import', 'model', 'block', 'mapping', 'synthesis', 'discriminator', 'train', 'stage', 'repeat', 'each',
]);
const layerWords = new Set<string>(layerOps);
const keywords = new Set(keywordSpellings);

function tokenize(stream: StringStream): string | null {
  if (stream.eatSpace()) return null;
  if (stream.match('//')) {
    stream.skipToEnd();
    return 'comment';
  }
  // The lexer reads `4x4` and `1 x 32 x 32` as one dimensions token.
  if (stream.match(/^\d+(?:[ \t]*x[ \t]*\d+)+(?![A-Za-z0-9_])/)) return 'number';
  if (stream.match(/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?k?/)) return 'number';
  const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
  if (word) {
    const text = word[0];
    if (structureWords.has(text)) return 'keyword';
    if (layerWords.has(text)) return 'typeName';
    if (keywords.has(text)) return 'propertyName';
    if (stream.match(/^\s*\(/, false)) return 'variableName.function';
    return 'variableName';
  }
  if (stream.match('..')) return 'operator';
  stream.next();
  return 'punctuation';
}

export const sganLanguage = StreamLanguage.define<null>({
  name: 'sgan',
  startState: () => null,
  token: (stream) => tokenize(stream),
  languageData: { commentTokens: { line: '//' } },
});
