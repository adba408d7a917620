// Canonical formatting of .sgan source. The output depends only on the AST, the comments and where
// the source had blank lines, so formatting twice gives the same text. Rules: two-space indent, one
// statement per line, no semicolons, a blank line between top-level declarations and before each
// network section, at most one blank line kept from the source, and short layer lists without
// comments on one line (`stage 8..32 { gblock() }`).
import type * as A from './ast.ts';
import type { Diagnostic } from './diagnostics.ts';
import { parseSource } from './parse.ts';

export interface FormatResult {
  /** The formatted text; absent when the source has syntax errors. */
  text?: string;
  diagnostics: Diagnostic[];
}

const MAX_INLINE_WIDTH = 100;
const INDENT = '  ';

/** Formats source text; a file with syntax errors is not formatted. */
export function formatSource(text: string, file: string): FormatResult {
  const parsed = parseSource(text, file);
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: parsed.diagnostics };
  return { text: new Printer(text, parsed.ast.comments).printFile(parsed.ast), diagnostics: parsed.diagnostics };
}

/** Anything with a span that the printer places: a declaration, item, setting or statement. */
interface Placed {
  span: A.Comment['span'];
}

class Printer {
  private readonly out: string[] = [];
  private nextComment = 0;
  /** Source line on which the last printed node or comment ended, for blank-line and trailing-comment decisions. */
  private lastSourceLine = 0;
  private readonly lineStarts: number[] = [0];

  constructor(
    source: string,
    private readonly comments: A.Comment[],
  ) {
    for (let i = 0; i < source.length; i++) if (source[i] === '\n') this.lineStarts.push(i + 1);
  }

  printFile(file: A.SourceFile): string {
    let previous: A.Decl | undefined;
    for (const decl of file.decls) {
      const forceBlank = previous !== undefined && !(previous.kind === 'import' && decl.kind === 'import');
      this.placeStart(decl, '', forceBlank);
      if (decl.kind === 'import') this.emit('', `import ${decl.path.join('.')}`, decl);
      else if (decl.kind === 'block') this.printBlock(decl);
      else this.printModel(decl);
      previous = decl;
    }
    this.flushComments(Infinity, '');
    return `${this.out.join('\n').replace(/\n+$/, '')}\n`;
  }

  private printBlock(block: A.BlockDecl): void {
    const params = block.params.map((p) => {
      const declared = `${p.name}: ${p.type}`;
      return p.default === undefined ? declared : `${declared} = ${formatValue(p.default)}`;
    });
    this.printLayerBody('', `block ${block.name}(${params.join(', ')})`, block.body, block);
  }

  private printModel(model: A.ModelDecl): void {
    this.emit('', `model ${model.name} {`, model);
    const sections = new Set(['mapping', 'synthesis', 'discriminator', 'train']);
    model.items.forEach((item, i) => {
      this.placeStart(item, INDENT, i > 0 && sections.has(item.kind));
      this.printModelItem(item);
    });
    this.closeBrace('', model);
  }

  private printModelItem(item: A.ModelItem): void {
    switch (item.kind) {
      case 'latent':
        return this.emit(INDENT, `latent ${item.name} ${formatValue(item.size)}`, item);
      case 'style':
        return this.emit(INDENT, `style ${item.name} ${formatValue(item.size)}`, item);
      case 'image':
        return this.emit(INDENT, `image ${formatValue(item.dims)}`, item);
      case 'channels':
        return this.emit(INDENT, `channels ${formatMap(item.map)}`, item);
      case 'mapping':
        return this.printLayerBody(INDENT, 'mapping', item.body, item);
      case 'synthesis':
        this.emit(INDENT, 'synthesis {', item);
        for (const inner of item.items) {
          this.placeStart(inner, INDENT + INDENT, false);
          this.printSynthesisItem(inner);
        }
        return this.closeBrace(INDENT, item);
      case 'discriminator':
        this.emit(INDENT, 'discriminator {', item);
        for (const inner of item.items) {
          this.placeStart(inner, INDENT + INDENT, false);
          if (inner.kind === 'fromrgb') this.emit(INDENT + INDENT, 'fromrgb each stage', inner);
          else this.printStage(inner);
        }
        return this.closeBrace(INDENT, item);
      case 'train':
        this.emit(INDENT, 'train {', item);
        for (const setting of item.settings) {
          this.placeStart(setting, INDENT + INDENT, false);
          this.emit(INDENT + INDENT, formatSetting(setting), setting);
        }
        return this.closeBrace(INDENT, item);
    }
  }

  private printSynthesisItem(item: A.SynthesisItem): void {
    const indent = INDENT + INDENT;
    switch (item.kind) {
      case 'const':
        return this.emit(indent, `const ${formatValue(item.size)}`, item);
      case 'stage':
        return this.printStage(item);
      case 'torgb':
        return this.emit(indent, 'torgb each stage', item);
      case 'fade':
        return this.emit(indent, `fade ${item.mode}`, item);
    }
  }

  private printStage(stage: A.StageDecl): void {
    const range = stage.to === undefined ? formatValue(stage.from) : `${formatValue(stage.from)}..${formatValue(stage.to)}`;
    this.printLayerBody(INDENT + INDENT, `stage ${range}`, stage.body, stage, true);
  }

  /**
   * Prints `head { ... }` with one statement per line, or on one line when `allowInline` is set and
   * the body is short and contains no comment. Stages and repeats may be inline; blocks and the mapping
   * network are always spelled out.
   */
  private printLayerBody(indent: string, head: string, body: A.LayerStatement[], owner: Placed, allowInline = false): void {
    const inline = allowInline ? this.inlineBody(body, owner) : undefined;
    if (inline !== undefined && indent.length + head.length + inline.length + 1 <= MAX_INLINE_WIDTH) {
      this.emit(indent, `${head} ${inline}`, owner);
      return;
    }
    this.emit(indent, `${head} {`, owner);
    for (const statement of body) {
      this.placeStart(statement, indent + INDENT, false);
      if (statement.kind === 'repeat') this.printLayerBody(
        indent + INDENT,
        `repeat ${formatValue(statement.count)}`,
        statement.body,
        statement,
        true,
      );
      else this.emit(indent + INDENT, formatSimpleStatement(statement), statement);
    }
    this.closeBrace(indent, owner);
  }

  private inlineBody(body: A.LayerStatement[], owner: Placed): string | undefined {
    const start = owner.span.offset;
    const end = owner.span.offset + owner.span.length;
    if (this.comments.some((c) => c.span.offset > start && c.span.offset < end)) return undefined;
    if (body.length === 0) return '{ }';
    const parts: string[] = [];
    for (const statement of body) {
      if (statement.kind === 'repeat') {
        const inner = this.inlineBody(statement.body, statement);
        if (inner === undefined) return undefined;
        parts.push(`repeat ${formatValue(statement.count)} ${inner}`);
      } else {
        parts.push(formatSimpleStatement(statement));
      }
    }
    return `{ ${parts.join('; ')} }`;
  }

  /** Prints comments that come before `node`, with a blank line where forced or where the source had one. */
  private placeStart(node: Placed, indent: string, forceBlank: boolean): void {
    // A comment at the end of the previous line stays there, before any blank line.
    while (this.nextComment < this.comments.length) {
      const comment = this.comments[this.nextComment]!;
      if (comment.span.offset >= node.span.offset || comment.span.line !== this.lastSourceLine) break;
      this.flushComments(comment.span.offset + 1, indent);
    }
    if (forceBlank) this.pushBlank();
    this.flushComments(node.span.offset, indent);
    if (this.lastSourceLine > 0 && this.lineOf(node.span.offset) > this.lastSourceLine + 1) this.pushBlank();
  }

  private pushBlank(): void {
    const last = this.out[this.out.length - 1];
    if (last === undefined || last === '' || this.previousLineOpens()) return;
    this.out.push('');
  }

  private flushComments(beforeOffset: number, indent: string): void {
    while (this.nextComment < this.comments.length && this.comments[this.nextComment]!.span.offset < beforeOffset) {
      const comment = this.comments[this.nextComment++]!;
      const line = comment.span.line;
      if (line === this.lastSourceLine && this.out.length > 0 && this.out[this.out.length - 1] !== '') {
        this.out[this.out.length - 1] += ` ${comment.text.trimEnd()}`;
      } else {
        if (this.lastSourceLine > 0 && line > this.lastSourceLine + 1) this.pushBlank();
        this.out.push(`${indent}${comment.text.trimEnd()}`);
      }
      this.lastSourceLine = line;
    }
  }

  private previousLineOpens(): boolean {
    const last = this.out[this.out.length - 1];
    return last !== undefined && last.endsWith('{') && !last.trimStart().startsWith('//');
  }

  private emit(indent: string, text: string, node: Placed): void {
    this.out.push(`${indent}${text}`);
    this.lastSourceLine = this.lineOf(node.span.offset + node.span.length - 1);
    // A multi-line node's first output line ends at its opening brace, so its statements place the
    // comments inside it. Only a one-line form takes the trailing comment of its last line.
    if (text.endsWith('{')) this.lastSourceLine = this.lineOf(node.span.offset);
  }

  private closeBrace(indent: string, owner: Placed): void {
    const end = owner.span.offset + owner.span.length - 1;
    this.flushComments(end, indent + INDENT);
    this.out.push(`${indent}}`);
    this.lastSourceLine = this.lineOf(end);
  }

  private lineOf(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }
}

export function formatValue(value: A.Value): string {
  switch (value.kind) {
    case 'number':
      return value.text;
    case 'dims':
      return value.dims.length === 2 ? value.dims.join('x') : value.dims.join(' x ');
    case 'name':
      return value.name;
  }
}

function formatMap(map: A.ResMap): string {
  if (map.entries.length === 0) return '{ }';
  return `{ ${map.entries.map((e) => `${formatValue(e.key)}: ${formatValue(e.value)}`).join(', ')} }`;
}

function formatSimpleStatement(statement: Exclude<A.LayerStatement, { kind: 'repeat' }>): string {
  if (statement.kind === 'call') return `${statement.name}(${statement.args.map(formatValue).join(', ')})`;
  const parts: string[] = [statement.op];
  if (Array.isArray(statement.arg)) parts.push(`[${statement.arg.map(formatValue).join(', ')}]`);
  else if (statement.arg !== undefined) parts.push(formatValue(statement.arg));
  for (const option of statement.options) {
    parts.push(option.value === undefined ? option.name : `${option.name} ${formatValue(option.value)}`);
  }
  return parts.join(' ');
}

function formatSetting(setting: A.TrainSetting): string {
  switch (setting.kind) {
    case 'loss':
      return `loss ${setting.name}`;
    case 'r1':
      return `r1 ${formatValue(setting.gamma)}`;
    case 'adam':
      return `adam ${formatValue(setting.beta1)} ${formatValue(setting.beta2)} ${formatValue(setting.eps)}`;
    case 'lr':
      if (setting.perRes === undefined) return `lr ${formatValue(setting.base)}`;
      return `lr ${formatValue(setting.base)} ${formatMap(setting.perRes)}`;
    case 'batch': {
      const parts = ['batch'];
      if (setting.base !== undefined) parts.push(formatValue(setting.base));
      if (setting.perRes !== undefined) parts.push(formatMap(setting.perRes));
      return parts.join(' ');
    }
    case 'grow':
      return `grow from ${formatValue(setting.from)} stable ${formatValue(setting.stable)} fade ${formatValue(setting.fade)}`;
    case 'mixing':
      return `mixing ${formatValue(setting.prob)}`;
    case 'ema':
      return `ema ${formatValue(setting.images)}`;
    case 'wavg':
      return `wavg decay ${formatValue(setting.decay)}`;
    case 'truncation':
      return `truncation ${formatValue(setting.psi)} cutoff ${formatValue(setting.cutoff)}`;
    case 'mirror':
      return `mirror ${setting.setting}`;
  }
}
