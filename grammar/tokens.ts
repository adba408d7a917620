// Tokens of the .sgan language. Every keyword names `Identifier` as its `longer_alt`, so a name that
// merely starts with a keyword (`noiseLevel`, `constant`, `stylex`) lexes as one identifier.
// Words that are reserved in WGSL, GLSL or JavaScript (`fn`, `let`, `var`, `type`) are not keywords
// here and stay valid names.
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n\r]*/, group: 'comments' });
// `#` comments are not part of the language. Lexing them as a group of their own lets the front end
// report one error per comment instead of a parse error for every word in it.
export const HashComment = createToken({ name: 'HashComment', pattern: /#[^\n\r]*/, group: 'hashComments' });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });

/** Creates a keyword token that yields to `Identifier` when more name characters follow it. */
function keyword(word: string): TokenType {
  const name = word[0]!.toUpperCase() + word.slice(1);
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier });
}

// Top level.
export const Import = keyword('import');
export const Model = keyword('model');
export const Block = keyword('block');

// Model header.
export const Latent = keyword('latent');
export const Style = keyword('style');
export const Image = keyword('image');
export const Channels = keyword('channels');

// Networks and their sections.
export const Mapping = keyword('mapping');
export const Synthesis = keyword('synthesis');
export const Discriminator = keyword('discriminator');
export const Train = keyword('train');
export const Const = keyword('const');
export const Stage = keyword('stage');
export const Torgb = keyword('torgb');
export const Fromrgb = keyword('fromrgb');
export const Each = keyword('each');
export const Fade = keyword('fade');
export const Repeat = keyword('repeat');

// Layers.
export const Pixelnorm = keyword('pixelnorm');
export const Dense = keyword('dense');
export const Conv = keyword('conv');
export const Bias = keyword('bias');
export const Lrelu = keyword('lrelu');
export const Noise = keyword('noise');
export const Adain = keyword('adain');
export const Upsample = keyword('upsample');
export const Downsample = keyword('downsample');
export const Blur = keyword('blur');
export const Mbstd = keyword('mbstd');
export const Flatten = keyword('flatten');

// Layer options.
export const Lrmul = keyword('lrmul');
export const Gain = keyword('gain');
export const Out = keyword('out');
export const Eps = keyword('eps');
export const Group = keyword('group');
export const Features = keyword('features');
export const Nobias = keyword('nobias');

// Training recipe.
export const Loss = keyword('loss');
export const R1 = keyword('r1');
export const Adam = keyword('adam');
export const Lr = keyword('lr');
export const Batch = keyword('batch');
export const Grow = keyword('grow');
export const From = keyword('from');
export const Stable = keyword('stable');
export const Mixing = keyword('mixing');
export const Ema = keyword('ema');
export const Wavg = keyword('wavg');
export const Decay = keyword('decay');
export const Truncation = keyword('truncation');
export const Cutoff = keyword('cutoff');
export const Mirror = keyword('mirror');

// Literals. `Dimensions` must come before `NumberLiteral` so that `3x3` and `1 x 32 x 32` lex as one
// token. The spaces around `x` stay on one line, so a name `x` on the next line is not captured.
export const Dimensions = createToken({ name: 'Dimensions', pattern: /\d+(?:[ \t]*x[ \t]*\d+)+(?![A-Za-z0-9_])/ });
// A trailing `k` multiplies by 1000 (`600k` images). `8..32` lexes as 8, `..`, 32 because a fraction
// needs a digit after the dot.
export const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?k?(?![A-Za-z0-9_])/,
});

export const LCurly = createToken({ name: 'LCurly', pattern: /{/ });
export const RCurly = createToken({ name: 'RCurly', pattern: /}/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/ });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });
export const Equals = createToken({ name: 'Equals', pattern: /=/ });

export const keywordTokens: TokenType[] = [
  Import, Model, Block,
  Latent, Style, Image, Channels,
  Mapping, Synthesis, Discriminator, Train, Const, Stage, Torgb, Fromrgb, Each, Fade, Repeat,
  Pixelnorm, Dense, Conv, Bias, Lrelu, Noise, Adain, Upsample, Downsample, Blur, Mbstd, Flatten,
  Lrmul, Gain, Out, Eps, Group, Features, Nobias,
  Loss, R1, Adam, Lr, Batch, Grow, From, Stable, Mixing, Ema, Wavg, Decay, Truncation, Cutoff, Mirror,
];

// Order matters: literals before punctuation that could start them, keywords before Identifier.
// Longer keywords go first because the lexer takes the first pattern that matches, and `lr` would
// otherwise claim the start of `lrelu`.
const keywordsLongestFirst = [...keywordTokens].sort(
  (a, b) => (b.PATTERN as RegExp).source.length - (a.PATTERN as RegExp).source.length,
);

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  HashComment,
  Dimensions,
  NumberLiteral,
  DotDot,
  Dot,
  LCurly, RCurly, LParen, RParen, LBracket, RBracket, Colon, Comma, Semicolon, Equals,
  ...keywordsLongestFirst,
  Identifier,
];

/** The spelling of every keyword, for did-you-mean hints and for tests. */
export const keywordSpellings: string[] = keywordTokens.map((token) => {
  const pattern = token.PATTERN as RegExp;
  return pattern.source;
});

export const sganLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
