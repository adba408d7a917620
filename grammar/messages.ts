// Parser error messages in the wording of the .sgan diagnostics ("expected '}' but found 'stage'"),
// in place of Chevrotain's default "Expecting token of type --> RCurly <--".
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';

const tokenWords: Record<string, string> = {
  Identifier: 'a name',
  NumberLiteral: 'a number',
  Dimensions: "a size such as '3x3'",
  LineComment: 'a comment',
};

const ruleWords: Record<string, string> = {
  file: 'the file',
  importDecl: 'an import',
  blockDecl: 'a block declaration',
  blockParam: 'a block parameter',
  modelDecl: 'a model',
  resMap: 'a resolution map',
  mapEntry: 'a map entry',
  synthesisDecl: 'the synthesis network',
  discriminatorDecl: 'the discriminator',
  trainDecl: 'the training recipe',
  trainSetting: 'the training recipe',
  layerBody: 'a list of layers',
  layerStatement: 'a list of layers',
  layerOp: 'a layer',
  layerOption: 'a layer option',
  callStatement: 'a block call',
  repeatStatement: 'a repeat',
  stageDecl: 'a stage',
  value: 'a value',
  valueList: 'a list of values',
};

/** Names a token type the way a reader sees it: `'stage'`, `'}'`, `a number`. */
export function describeTokenType(tokenType: TokenType): string {
  if (tokenType === EOF) return 'the end of the file';
  const word = tokenWords[tokenType.name];
  if (word !== undefined) return word;
  const pattern = tokenType.PATTERN;
  if (pattern instanceof RegExp) return `'${pattern.source.replace(/\\/g, '')}'`;
  return tokenType.name;
}

export function describeToken(token: IToken): string {
  if (token.tokenType === EOF) return 'the end of the file';
  return `'${token.image}'`;
}

function describeRule(ruleName: string): string {
  return ruleWords[ruleName] ?? ruleName;
}

/** Lists the distinct first tokens of the given paths, at most eight, for "expected one of". */
function firstTokens(paths: TokenType[][][]): string {
  const words = new Set<string>();
  for (const alternative of paths) {
    for (const path of alternative) {
      const first = path[0];
      if (first !== undefined) words.add(describeTokenType(first));
    }
  }
  const list = [...words];
  if (list.length > 8) return `${list.slice(0, 8).join(', ')}, ...`;
  if (list.length <= 1) return list.join('');
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

export const sganErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return `expected ${describeTokenType(expected)} but found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `unexpected ${describeToken(firstRedundant)}; expected 'import', 'block' or 'model'`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const found = actual[0] === undefined ? 'the end of the file' : describeToken(actual[0]);
    if (ruleName === 'value') return `expected ${firstTokens(expectedPathsPerAlt)} but found ${found}`;
    return `unexpected ${found} in ${describeRule(ruleName)}; expected ${firstTokens(expectedPathsPerAlt)}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
    const found = actual[0] === undefined ? 'the end of the file' : describeToken(actual[0]);
    return `unexpected ${found} in ${describeRule(ruleName)}; expected ${firstTokens([expectedIterationPaths])}`;
  },
};
