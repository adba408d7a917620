// The diagnostics sink of semantic analysis and the typed readers of literal values. Every reader
// reports a located error and returns undefined on a bad value, so checking continues and a file's
// errors are all reported in one run.
import type { Value } from '../frontend/ast.ts';
import { errorAt, type Diagnostic, type Span } from '../frontend/diagnostics.ts';

/** The block, and the statement in it, that produced an expanded layer. */
export interface BlockOrigin {
  block: string;
  span: Span;
}

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly seen = new Set<string>();

  error(span: Span, code: string, message: string, hint?: string): void {
    this.push(errorAt(span, code, message, hint));
  }

  warning(span: Span, code: string, message: string, hint?: string): void {
    this.push({ ...errorAt(span, code, message, hint), severity: 'warning' });
  }

  /** Reports at a call site; when the statement came from a block, the hint names its line there. */
  errorInLayer(site: Span, origin: BlockOrigin | undefined, code: string, message: string, hint?: string): void {
    const where =
      origin === undefined
        ? undefined
        : `the layer comes from block '${origin.block}' at ${origin.span.file}:${origin.span.line}:${origin.span.column}`;
    const combined = [hint, where].filter((part) => part !== undefined).join('; ');
    this.error(site, code, message, combined === '' ? undefined : combined);
  }

  get errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === 'error').length;
  }

  // A block used by many stages repeats the same error, and a bad name is found both when blocks are
  // resolved and when values are read. The first report of a code at a position is kept.
  private push(diagnostic: Diagnostic): void {
    const key = `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}:${diagnostic.code}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push(diagnostic);
  }
}

export function describeValue(value: Value): string {
  switch (value.kind) {
    case 'number':
      return value.text;
    case 'dims':
      return value.dims.join('x');
    case 'name':
      return `name '${value.name}'`;
  }
}

/** Reads a number; `what` names the setting in the message ("the R1 gamma"). */
export function readNumber(report: Reporter, value: Value, what: string): number | undefined {
  if (value.kind === 'number') return value.value;
  if (value.kind === 'name') {
    report.error(value.span, 'E027', `unknown name '${value.name}'; ${what} must be a number`);
  } else {
    report.error(value.span, 'E025', `${what} must be a number, found ${describeValue(value)}`);
  }
  return undefined;
}

export function readInteger(report: Reporter, value: Value, what: string, min = 1): number | undefined {
  const n = readNumber(report, value, what);
  if (n === undefined) return undefined;
  if (!Number.isInteger(n)) {
    report.error(value.span, 'E025', `${what} must be a whole number, found ${describeValue(value)}`);
    return undefined;
  }
  if (n < min) {
    report.error(value.span, 'E050', `${what} must be at least ${min}, found ${describeValue(value)}`);
    return undefined;
  }
  return n;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Reads a resolution: a power of two of at least 4. */
export function readResolution(report: Reporter, value: Value, what: string): number | undefined {
  const n = readInteger(report, value, what);
  if (n === undefined) return undefined;
  if (!isPowerOfTwo(n) || n < 4) {
    const lower = 2 ** Math.floor(Math.log2(Math.max(n, 4)));
    const hint = lower === n ? undefined : `the nearest smaller power of two is ${lower}`;
    report.error(
      value.span,
      'E035',
      `${what} must be a power of two of at least 4, found ${describeValue(value)}`,
      hint,
    );
    return undefined;
  }
  return n;
}

/** Reads a number in [min, max]; `minOpen` and `maxOpen` exclude that end. */
export function readInRange(
  report: Reporter,
  value: Value,
  what: string,
  range: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean },
): number | undefined {
  const n = readNumber(report, value, what);
  if (n === undefined) return undefined;
  const belowMin = range.min !== undefined && (range.minOpen === true ? n <= range.min : n < range.min);
  const aboveMax = range.max !== undefined && (range.maxOpen === true ? n >= range.max : n > range.max);
  if (belowMin || aboveMax) {
    report.error(value.span, 'E050', `${what} must be ${describeRange(range)}, found ${describeValue(value)}`);
    return undefined;
  }
  return n;
}

function describeRange(range: { min?: number; max?: number; minOpen?: boolean; maxOpen?: boolean }): string {
  if (range.min !== undefined && range.max !== undefined) {
    const open = range.minOpen === true ? '(' : '[';
    const close = range.maxOpen === true ? ')' : ']';
    return `in ${open}${range.min}, ${range.max}${close}`;
  }
  if (range.min !== undefined) return range.minOpen === true ? `greater than ${range.min}` : `at least ${range.min}`;
  if (range.max !== undefined) return range.maxOpen === true ? `less than ${range.max}` : `at most ${range.max}`;
  return 'a number';
}

/** Returns the powers of two from `a` to `b` inclusive, in the direction from `a` to `b`. */
export function powersBetween(a: number, b: number): number[] {
  const result: number[] = [];
  const [low, high] = a <= b ? [a, b] : [b, a];
  for (let r = low; r <= high; r *= 2) result.push(r);
  return a <= b ? result : result.reverse();
}
