// The formatter keeps meaning (the AST without locations, and the comments) and is idempotent, on
// random programs that use every construct of the grammar with random spacing, separators and
// comments.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../../src/check/index.ts';
import { stripSpans } from '../../src/frontend/ast.ts';
import { formatSource } from '../../src/frontend/format.ts';
import { parseSource } from '../../src/frontend/parse.ts';

// `x` is left out: a name `x` between two numbers on one line lexes as a size such as `3 x 4`.
const names = ['fn', 'let', 'type', 'var', 'noiseLevel', 'constant', 'stylex', 'k', 'slope', 'gblock', 'a_1'];
const name = fc.constantFrom(...names);
const number = fc.oneof(
  fc.integer({ min: 0, max: 2048 }).map(String),
  fc.constantFrom('0.01', '1e-8', '-0.5', '600k', '0.3k', '.5', '2.5e3'),
);
const dims = fc.oneof(
  fc.constantFrom('3x3', '1x1', '4x4', '5 x 5'),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(8, 32, 1024)).map(([c, r]) => `${c} x ${r} x ${r}`),
);
const value = fc.oneof(number, dims, name);
const separator = fc.constantFrom(' ', '\n', '; ', ';\n', '\n\n', '  ', '\n  // note\n');
// Inside braces before the first and after the last statement, where a semicolon is not allowed.
const space = fc.constantFrom(' ', '\n', '\n\n', '', '\n  // note\n');
const comma = fc.constantFrom(', ', ',', ',\n', ' , ', ', // between\n');

const list = (item: fc.Arbitrary<string>, min = 0): fc.Arbitrary<string> =>
  fc.tuple(fc.array(item, { minLength: min, maxLength: 4 }), comma).map(([items, c]) => items.join(c));

const option = fc.oneof(
  fc.tuple(fc.constantFrom('lrmul', 'gain', 'out', 'eps', 'group', 'features'), value).map(([o, v]) => `${o} ${v}`),
  fc.constant('nobias'),
);
const layerOp = fc
  .tuple(
    fc.constantFrom('pixelnorm', 'dense', 'conv', 'bias', 'lrelu', 'noise', 'adain', 'upsample', 'downsample', 'blur', 'mbstd', 'flatten'),
    fc.oneof(fc.constant(''), value, list(value).map((items) => `[${items}]`)),
    fc.array(option, { maxLength: 3 }),
  )
  .map(([op, arg, options]) => [op, arg, ...options].filter((part) => part !== '').join(' '));
const call = fc.tuple(name, list(value)).map(([n, args]) => `${n}(${args})`);

const { statement } = fc.letrec((tie) => ({
  statement: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    layerOp,
    call,
    fc.tuple(value, tie('body')).map(([count, body]) => `repeat ${count} ${body}`),
  ),
  body: fc.tuple(fc.array(tie('statement'), { maxLength: 4 }), separator, space).map(([items, sep, pad]) => `{${pad}${items.join(sep)}${pad}}`),
}));
const body = fc
  .tuple(fc.array(statement as fc.Arbitrary<string>, { maxLength: 4 }), separator, space)
  .map(([items, sep, pad]) => `{${pad}${items.join(sep)}${pad}}`);

const resMap = list(fc.tuple(value, value).map(([k, v]) => `${k}: ${v}`)).map((entries) => `{ ${entries} }`);
const range = fc.oneof(value, fc.tuple(value, value).map(([a, b]) => `${a}..${b}`));
const stage = fc.tuple(range, body).map(([r, b]) => `stage ${r} ${b}`);
const section = (keyword: string, items: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(fc.array(items, { maxLength: 4 }), separator, space).map(([parts, sep, pad]) => `${keyword} {${pad}${parts.join(sep)}${pad}}`);
const trainSetting = fc.oneof(
  name.map((n) => `loss ${n}`),
  value.map((v) => `r1 ${v}`),
  fc.tuple(value, value, value).map(([a, b, c]) => `adam ${a} ${b} ${c}`),
  fc.tuple(value, fc.option(resMap)).map(([v, m]) => (m === null ? `lr ${v}` : `lr ${v} ${m}`)),
  fc.oneof(value.map((v) => `batch ${v}`), resMap.map((m) => `batch ${m}`), fc.tuple(value, resMap).map(([v, m]) => `batch ${v} ${m}`)),
  fc.tuple(value, value, value).map(([a, b, c]) => `grow from ${a} stable ${b} fade ${c}`),
  value.map((v) => `mixing ${v}`),
  value.map((v) => `ema ${v}`),
  value.map((v) => `wavg decay ${v}`),
  fc.tuple(value, value).map(([a, b]) => `truncation ${a} cutoff ${b}`),
  fc.constantFrom('on', 'off').map((s) => `mirror ${s}`),
);
const modelItem = fc.oneof(
  fc.tuple(name, value).map(([n, v]) => `latent ${n} ${v}`),
  fc.tuple(name, value).map(([n, v]) => `style ${n} ${v}`),
  value.map((v) => `image ${v}`),
  resMap.map((m) => `channels ${m}`),
  body.map((b) => `mapping ${b}`),
  section('synthesis', fc.oneof(value.map((v) => `const ${v}`), stage, fc.constant('torgb each stage'), name.map((n) => `fade ${n}`))),
  section('discriminator', fc.oneof(fc.constant('fromrgb each stage'), stage)),
  section('train', trainSetting),
);
const param = fc
  .tuple(name, fc.constantFrom('int', 'real', 'size', 'kernel'), fc.option(value))
  .map(([n, t, d]) => (d === null ? `${n}: ${t}` : `${n}: ${t} = ${d}`));
const decl = fc.oneof(
  fc.array(name, { minLength: 1, maxLength: 3 }).map((path) => `import ${path.join('.')}`),
  fc.tuple(name, list(param), body).map(([n, params, b]) => `block ${n}(${params}) ${b}`),
  fc.tuple(name, fc.array(modelItem, { maxLength: 5 }), separator, space).map(([n, items, sep, pad]) => `model ${n} {${pad}${items.join(sep)}${pad}}`),
);
const program = fc
  .tuple(fc.array(decl, { maxLength: 4 }), fc.constantFrom('\n', '\n\n', ' '), fc.option(fc.constant('// leading comment\n')))
  .map(([decls, sep, lead]) => `${lead ?? ''}${decls.join(sep)}\n`);

function astOf(text: string): unknown {
  const parsed = parseSource(text, 'random.sgan');
  expect(parsed.diagnostics).toEqual([]);
  return { decls: stripSpans(parsed.ast.decls), comments: parsed.ast.comments.map((c) => c.text) };
}

describe('formatSource', () => {
  it('keeps the AST of random programs', () => {
    fc.assert(
      fc.property(program, (source) => {
        const formatted = formatSource(source, 'random.sgan').text;
        expect(formatted).toBeDefined();
        expect(astOf(formatted!)).toEqual(astOf(source));
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent on random programs', () => {
    fc.assert(
      fc.property(program, (source) => {
        const once = formatSource(source, 'random.sgan').text!;
        expect(formatSource(once, 'random.sgan').text).toBe(once);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves the examples and stdlib unchanged', () => {
    for (const path of ['examples/stylegan-ffhq-1024.sgan', 'examples/fashion-32.sgan', 'stdlib/stylegan.sgan']) {
      const text = readFileSync(path, 'utf8');
      expect(formatSource(text, path).text).toBe(text);
    }
  });

  it('canonicalizes spacing and separators', () => {
    const source = 'model m{latent z 8;style w 8\nsynthesis{stage 4{noise;adain} torgb each stage}}';
    expect(formatSource(source, 'm.sgan').text).toBe(
      'model m {\n  latent z 8\n  style w 8\n\n  synthesis {\n    stage 4 { noise; adain }\n    torgb each stage\n  }\n}\n',
    );
  });

  it('keeps leading and trailing comments', () => {
    const source = '// header\nmodel m { // opens\n  // before latent\n  latent z 8 // size\n}\n';
    expect(formatSource(source, 'm.sgan').text).toBe(source);
  });

  it('refuses a file with syntax errors', () => {
    const result = formatSource('model m { latent z }', 'bad.sgan');
    expect(result.text).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['E012']);
  });
});

// Words and symbols of the language, shuffled into mostly invalid programs.
const fragment = fc.oneof(
  fc.constantFrom('model', 'block', 'import', 'stage', 'synthesis', 'discriminator', 'mapping', 'train', 'conv', 'dense', 'repeat', 'torgb', 'each'),
  fc.constantFrom('{', '}', '(', ')', '[', ']', ',', ':', ';', '..', '.', '=', '#', '@', '"', '\n', ' '),
  value,
  statement as fc.Arbitrary<string>,
);

describe('front end on malformed input', () => {
  it('reports located diagnostics and never throws', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 40 }), (parts) => {
        const source = parts.join(' ');
        const result = checkSource(source, 'garbage.sgan', { readFile: () => 'block imported() { noise }\n' });
        const lines = source.split('\n');
        for (const diagnostic of result.diagnostics) {
          expect(diagnostic.line).toBeGreaterThanOrEqual(1);
          expect(diagnostic.line).toBeLessThanOrEqual(lines.length);
          expect(diagnostic.column).toBeGreaterThanOrEqual(1);
          expect(diagnostic.length).toBeGreaterThanOrEqual(1);
        }
        if (result.diagnostics.some((d) => d.severity === 'error')) expect(result.spec).toBeUndefined();
        expect(() => formatSource(source, 'garbage.sgan')).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('checker on random programs', () => {
  it('never throws on parsed programs', () => {
    fc.assert(
      fc.property(program, (source) => {
        const result = checkSource(source, 'random.sgan', { readFile: () => 'block gblock() { noise }\n' });
        expect(Array.isArray(result.diagnostics)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('checker on mutated examples', () => {
  const lines = readFileSync('examples/fashion-32.sgan', 'utf8').split('\n');
  const mutation = fc.tuple(
    fc.integer({ min: 0, max: lines.length - 1 }),
    fc.constantFrom('delete', 'duplicate', 'number'),
    fc.oneof(number, dims, name),
  );

  it('never throws and gives a spec only without errors', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const edited = [...lines];
        for (const [index, kind, replacement] of mutations) {
          const line = edited[index % edited.length] ?? '';
          if (kind === 'delete') edited.splice(index % edited.length, 1);
          else if (kind === 'duplicate') edited.splice(index % edited.length, 0, line);
          else edited[index % edited.length] = line.replace(/\b\d+(\.\d+)?\b/, replacement);
        }
        const result = checkSource(edited.join('\n'), 'examples/mutated.sgan');
        const hasError = result.diagnostics.some((d) => d.severity === 'error');
        expect(result.spec === undefined).toBe(hasError);
      }),
      { numRuns: 300 },
    );
  });
});
