// The syntax tree of a .sgan file, built from the Chevrotain CST by build-ast.ts. It keeps every
// construct the source wrote, in source order, with spans for diagnostics; meaning (defaults, block
// expansion, shapes) is decided later by src/check.
import type { Span } from './diagnostics.ts';

/** A literal or a name. `3x3` and `1 x 32 x 32` are `dims`; `600k` is a number with `text` kept for fmt. */
export type Value =
  | { kind: 'number'; value: number; text: string; span: Span }
  | { kind: 'dims'; dims: number[]; span: Span }
  | { kind: 'name'; name: string; span: Span };

export interface Comment {
  text: string;
  span: Span;
}

export interface SourceFile {
  file: string;
  decls: Decl[];
  /** Line comments, in source order; the formatter places them back between statements. */
  comments: Comment[];
}

export type Decl = ImportDecl | BlockDecl | ModelDecl;

/** `import std.stylegan`: `path` is ['std', 'stylegan']. */
export interface ImportDecl {
  kind: 'import';
  path: string[];
  span: Span;
}

export interface BlockParam {
  name: string;
  /** Type name as written: `int`, `real` or `size`. */
  type: string;
  default?: Value;
  span: Span;
  typeSpan: Span;
}

export interface BlockDecl {
  kind: 'block';
  name: string;
  params: BlockParam[];
  body: LayerStatement[];
  span: Span;
  nameSpan: Span;
}

export const layerOps = [
  'pixelnorm',
  'dense',
  'conv',
  'bias',
  'lrelu',
  'noise',
  'adain',
  'upsample',
  'downsample',
  'blur',
  'mbstd',
  'flatten',
] as const;
export type LayerOp = (typeof layerOps)[number];

export const optionNames = ['lrmul', 'gain', 'out', 'eps', 'group', 'features', 'nobias'] as const;
export type OptionName = (typeof optionNames)[number];

export interface LayerOption {
  name: OptionName;
  /** Absent for the flag `nobias`. */
  value?: Value;
  span: Span;
}

export type LayerStatement =
  | {
      kind: 'layer';
      op: LayerOp;
      /** The positional argument (`dense 512`, `lrelu 0.2`), or the list of `blur [1, 2, 1]`. */
      arg?: Value | Value[];
      options: LayerOption[];
      span: Span;
    }
  | { kind: 'repeat'; count: Value; body: LayerStatement[]; span: Span }
  | { kind: 'call'; name: string; args: Value[]; span: Span; nameSpan: Span };

export interface MapEntry {
  key: Value;
  value: Value;
  span: Span;
}

/** `{ 4: 512, 8: 512 }`, keyed by resolution. */
export interface ResMap {
  entries: MapEntry[];
  span: Span;
}

export interface StageDecl {
  kind: 'stage';
  from: Value;
  /** The other end of `from..to`; absent for a single resolution. */
  to?: Value;
  body: LayerStatement[];
  span: Span;
}

export type SynthesisItem =
  | { kind: 'const'; size: Value; span: Span }
  | StageDecl
  | { kind: 'torgb'; span: Span }
  | { kind: 'fade'; mode: string; modeSpan: Span; span: Span };

export type DiscriminatorItem = { kind: 'fromrgb'; span: Span } | StageDecl;

export type TrainSetting =
  | { kind: 'loss'; name: string; nameSpan: Span; span: Span }
  | { kind: 'r1'; gamma: Value; span: Span }
  | { kind: 'adam'; beta1: Value; beta2: Value; eps: Value; span: Span }
  | { kind: 'lr'; base: Value; perRes?: ResMap; span: Span }
  | { kind: 'batch'; base?: Value; perRes?: ResMap; span: Span }
  | { kind: 'grow'; from: Value; stable: Value; fade: Value; span: Span }
  | { kind: 'mixing'; prob: Value; span: Span }
  | { kind: 'ema'; images: Value; span: Span }
  | { kind: 'wavg'; decay: Value; span: Span }
  | { kind: 'truncation'; psi: Value; cutoff: Value; span: Span }
  | { kind: 'mirror'; setting: string; settingSpan: Span; span: Span };

export type ModelItem =
  | { kind: 'latent'; name: string; size: Value; span: Span }
  | { kind: 'style'; name: string; size: Value; span: Span }
  | { kind: 'image'; dims: Value; span: Span }
  | { kind: 'channels'; map: ResMap; span: Span }
  | { kind: 'mapping'; body: LayerStatement[]; span: Span }
  | { kind: 'synthesis'; items: SynthesisItem[]; span: Span }
  | { kind: 'discriminator'; items: DiscriminatorItem[]; span: Span }
  | { kind: 'train'; settings: TrainSetting[]; span: Span };

export interface ModelDecl {
  kind: 'model';
  name: string;
  items: ModelItem[];
  span: Span;
  nameSpan: Span;
}

/** Returns a deep copy of an AST value with every `span`, `nameSpan` and similar field removed. */
export function stripSpans<T>(node: T): unknown {
  if (Array.isArray(node)) return node.map((item) => stripSpans(item));
  if (node === null || typeof node !== 'object') return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'span' || key.endsWith('Span') || key === 'file') continue;
    result[key] = stripSpans(value);
  }
  return result;
}
