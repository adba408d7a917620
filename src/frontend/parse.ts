// Lexes and parses .sgan text into an AST, converting Chevrotain's lexer and parser errors into
// located diagnostics. The parser recovers, so one call reports every syntax error of a file.
import { EOF, type IRecognitionException, type IToken } from 'chevrotain';
import { sganParser } from '../../grammar/parser.ts';
import { Identifier, keywordSpellings, sganLexer } from '../../grammar/tokens.ts';
import type { FileCstNode } from '../../grammar/cst.d.ts';
import { layerOps, type Comment, type SourceFile } from './ast.ts';
import { AstBuilder } from './build-ast.ts';
import { didYouMean, errorAt, type Diagnostic, type Span } from './diagnostics.ts';

export interface ParseResult {
  ast: SourceFile;
  diagnostics: Diagnostic[];
}

const parserErrorCodes: Record<string, string> = {
  MismatchedTokenException: 'E010',
  NoViableAltException: 'E012',
  EarlyExitException: 'E013',
  NotAllInputParsedException: 'E014',
};

export function parseSource(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const lexed = sganLexer.tokenize(text);
  for (const error of lexed.errors) {
    const span: Span = { file, offset: error.offset, line: error.line ?? 1, column: error.column ?? 1, length: error.length };
    const character = text.slice(error.offset, error.offset + error.length);
    diagnostics.push(errorAt(span, 'E001', `unexpected character '${character}'`, lexerHint(character)));
  }

  for (const token of (lexed.groups['hashComments'] ?? []) as IToken[]) {
    const span: Span = { file, offset: token.startOffset, line: token.startLine ?? 1, column: token.startColumn ?? 1, length: 1 };
    diagnostics.push(errorAt(span, 'E001', "unexpected character '#'", "comments start with '//'"));
  }

  sganParser.input = lexed.tokens;
  const cst = sganParser.file() as FileCstNode;
  for (const error of sganParser.errors) {
    diagnostics.push(convertParserError(error, text, file));
  }

  const builder = new AstBuilder(file);
  const commentTokens = (lexed.groups['comments'] ?? []) as IToken[];
  const comments: Comment[] = commentTokens.map((token) => ({ text: token.image, span: builder.tokenSpan(token) }));
  const ast = builder.buildFile(cst, comments);
  diagnostics.push(...builder.diagnostics);
  return { ast, diagnostics };
}

function lexerHint(character: string): string | undefined {
  if (character === '"' || character === "'") return 'the language has no strings; names are written bare';
  return undefined;
}

function convertParserError(error: IRecognitionException, text: string, file: string): Diagnostic {
  const code = parserErrorCodes[error.name] ?? 'E010';
  const bareName = bareNameStatement(error);
  if (bareName !== undefined) {
    const span: Span = {
      file,
      offset: bareName.startOffset,
      line: bareName.startLine ?? 1,
      column: bareName.startColumn ?? 1,
      length: bareName.image.length,
    };
    const hint = didYouMean(bareName.image, layerOps) ?? `write '${bareName.image}()' to call a block of that name`;
    return errorAt(span, code, `'${bareName.image}' is not a layer, and a block call needs parentheses`, hint);
  }
  const token = error.token;
  let span: Span;
  if (token.tokenType === EOF || Number.isNaN(token.startOffset)) {
    span = endOfFileSpan(text, file);
  } else {
    span = {
      file,
      offset: token.startOffset,
      line: token.startLine ?? 1,
      column: token.startColumn ?? 1,
      length: token.image.length,
    };
  }
  return errorAt(span, code, error.message, keywordHint(error));
}

/**
 * Returns the name token of a statement that is a bare name (`upsampel;` or `gblock` without
 * parentheses), which the parser reports as a missing '(' after it.
 */
function bareNameStatement(error: IRecognitionException): IToken | undefined {
  if (error.name !== 'MismatchedTokenException' || !error.message.startsWith("expected '('")) return undefined;
  if (error.context.ruleStack[error.context.ruleStack.length - 1] !== 'callStatement') return undefined;
  const previous = (error as IRecognitionException & { previousToken?: IToken }).previousToken;
  return previous?.tokenType === Identifier ? previous : undefined;
}

/** Suggests a keyword when a name is where a statement was expected, as in `mixng 0.9`. */
function keywordHint(error: IRecognitionException): string | undefined {
  const token = error.token;
  if (token.tokenType !== Identifier) return undefined;
  const suggestion = didYouMean(token.image, keywordSpellings);
  if (suggestion !== undefined) return suggestion;
  if (error.name !== 'MismatchedTokenException' || !error.message.startsWith("expected '}'")) return undefined;
  return `'${token.image}' does not start a statement here; docs/language.md lists the statements of each section`;
}

/** Points just past the last character of the file, on its last non-empty line. */
function endOfFileSpan(text: string, file: string): Span {
  const trimmed = text.replace(/\s+$/, '');
  const lines = trimmed.split('\n');
  const lastLine = lines[lines.length - 1] ?? '';
  return { file, offset: trimmed.length, line: lines.length, column: lastLine.length + 1, length: 1 };
}
