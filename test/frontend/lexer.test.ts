// Tokens and parsing: keywords never capture longer names, reserved words of other languages are
// names here, literals lex as one token, and the parser recovers from errors.
import { describe, expect, it } from 'vitest';
import { sganLexer } from '../../grammar/tokens.ts';
import { stripSpans } from '../../src/frontend/ast.ts';
import { parseSource } from '../../src/frontend/parse.ts';
import { parseNumber } from '../../src/frontend/build-ast.ts';

function tokens(text: string): string[] {
  const result = sganLexer.tokenize(text);
  expect(result.errors).toEqual([]);
  return result.tokens.map((t) => `${t.tokenType.name}:${t.image}`);
}

describe('lexer', () => {
  it('keeps names that start with a keyword', () => {
    expect(tokens('noiseLevel stylex constant convolution lrx r1x')).toEqual([
      'Identifier:noiseLevel',
      'Identifier:stylex',
      'Identifier:constant',
      'Identifier:convolution',
      'Identifier:lrx',
      'Identifier:r1x',
    ]);
  });

  it('prefers the longer of two keywords', () => {
    expect(tokens('lr lrelu lrmul from fromrgb stage stable')).toEqual([
      'Lr:lr',
      'Lrelu:lrelu',
      'Lrmul:lrmul',
      'From:from',
      'Fromrgb:fromrgb',
      'Stage:stage',
      'Stable:stable',
    ]);
  });

  it('lexes WGSL, GLSL and JavaScript reserved words as names', () => {
    const words = ['fn', 'let', 'type', 'storage', 'sampler', 'var', 'function', 'uniform', 'const_', 'return'];
    expect(tokens(words.join(' '))).toEqual(words.map((w) => `Identifier:${w}`));
  });

  it('lexes sizes, ranges and numbers', () => {
    expect(tokens('3x3 1 x 32 x 32 8..1024 600k 1e-8 -0.5 .5')).toEqual([
      'Dimensions:3x3',
      'Dimensions:1 x 32 x 32',
      'NumberLiteral:8',
      'DotDot:..',
      'NumberLiteral:1024',
      'NumberLiteral:600k',
      'NumberLiteral:1e-8',
      'NumberLiteral:-0.5',
      'NumberLiteral:.5',
    ]);
  });

  it('does not join a size across lines', () => {
    expect(tokens('dense 3\nx')).toEqual(['Dense:dense', 'NumberLiteral:3', 'Identifier:x']);
  });

  it('reads the k suffix as thousands', () => {
    expect(parseNumber('600k')).toBe(600_000);
    expect(parseNumber('0.3k')).toBe(300);
    expect(parseNumber('1.5e1k')).toBe(15_000);
    expect(parseNumber('1e-8')).toBe(1e-8);
  });
});

describe('parser', () => {
  it('builds the AST of a block', () => {
    const { ast, diagnostics } = parseSource('block g(k: size = 3x3, s: real) { upsample bilinear; conv k nobias; blur [1, 2, 1]; lrelu s; repeat 2 { noise } }', 'g.sgan');
    expect(diagnostics).toEqual([]);
    expect(stripSpans(ast.decls)).toEqual([
      {
        kind: 'block',
        name: 'g',
        params: [
          { name: 'k', type: 'size', default: { kind: 'dims', dims: [3, 3] } },
          { name: 's', type: 'real' },
        ],
        body: [
          { kind: 'layer', op: 'upsample', arg: { kind: 'name', name: 'bilinear' }, options: [] },
          { kind: 'layer', op: 'conv', arg: { kind: 'name', name: 'k' }, options: [{ name: 'nobias' }] },
          {
            kind: 'layer',
            op: 'blur',
            arg: [1, 2, 1].map((n) => ({ kind: 'number', value: n, text: String(n) })),
            options: [],
          },
          { kind: 'layer', op: 'lrelu', arg: { kind: 'name', name: 's' }, options: [] },
          { kind: 'repeat', count: { kind: 'number', value: 2, text: '2' }, body: [{ kind: 'layer', op: 'noise', options: [] }] },
        ],
      },
    ]);
  });

  it('does not take a block call as a layer argument', () => {
    const { ast, diagnostics } = parseSource('block g() { lrelu\n epilogue() }', 'g.sgan');
    expect(diagnostics).toEqual([]);
    const block = ast.decls[0]!;
    expect(block.kind === 'block' && block.body.map((s) => s.kind)).toEqual(['layer', 'call']);
  });

  it('locates errors by line and column', () => {
    const { diagnostics } = parseSource('model m {\n  latent z 8\n  style w }\n', 'm.sgan');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'E012', line: 3, column: 11, length: 1, file: 'm.sgan' });
  });

  it('recovers and reports several syntax errors', () => {
    const source = 'model m {\n  channels { 4: 8 8: 8 }\n  latent z 8 @\n  train { lr 0.1 { 4: 1 8: 2 } }\n}\n';
    const { ast, diagnostics } = parseSource(source, 'm.sgan');
    expect(diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`)).toEqual(['E001@3:14', 'E011@2:19', 'E011@4:25']);
    const model = ast.decls[0]!;
    const channels = model.kind === 'model' ? model.items.find((item) => item.kind === 'channels') : undefined;
    expect(channels?.kind).toBe('channels');
    expect(channels?.kind === 'channels' ? channels.map.entries : []).toHaveLength(2);
  });
});
