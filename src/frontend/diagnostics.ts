// Located user diagnostics and their text form:
//
//   examples/a.sgan:7:15: error[E023]: unknown block 'epilog'
//      7 |   stage 4 { epilog() }
//        |             ^^^^^^
//     = hint: did you mean 'epilogue'?

/** One user-facing problem in a .sgan file. `line` and `column` count from 1; `length` is in characters. */
export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  file: string;
  line: number;
  column: number;
  length: number;
  hint?: string;
}

/** A source position and extent; `offset` counts characters from the start of the file. */
export interface Span {
  file: string;
  offset: number;
  line: number;
  column: number;
  length: number;
}

export function errorAt(span: Span, code: string, message: string, hint?: string): Diagnostic {
  const diagnostic: Diagnostic = {
    code,
    severity: 'error',
    message,
    file: span.file,
    line: span.line,
    column: span.column,
    length: Math.max(1, span.length),
  };
  if (hint !== undefined) diagnostic.hint = hint;
  return diagnostic;
}

export function hasErrors(diagnostics: Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Orders diagnostics by file, then position, so that output reads top to bottom. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code),
  );
}

/**
 * Formats diagnostics as text: the `file:line:col: severity[CODE]: message` header, the source line
 * with a caret run under the span, and the hint. `sources` maps a file name to its text; a file not in
 * the map gets the header and hint only.
 */
export function formatDiagnostics(diagnostics: Diagnostic[], sources: Map<string, string>): string {
  return diagnostics.map((d) => formatDiagnostic(d, sources.get(d.file))).join('\n');
}

export function formatDiagnostic(d: Diagnostic, source: string | undefined): string {
  const lines = [`${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}`];
  const sourceLine = source?.split(/\r?\n/)[d.line - 1];
  if (sourceLine !== undefined) {
    const gutter = String(d.line).length;
    const visible = sourceLine.replace(/\t/g, ' ');
    // The caret run stops at the end of the line, so a span that continues onto later lines shows
    // its first line only.
    const caretLength = Math.max(1, Math.min(d.length, visible.length - (d.column - 1)));
    lines.push(`${' '.repeat(gutter + 1)}|`);
    lines.push(`${d.line} | ${visible}`);
    lines.push(`${' '.repeat(gutter + 1)}| ${' '.repeat(d.column - 1)}${'^'.repeat(caretLength)}`);
  }
  if (d.hint !== undefined) lines.push(`  = hint: ${d.hint}`);
  return lines.join('\n') + '\n';
}

/** Levenshtein distance, for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Returns "did you mean 'x'?" for the closest candidate within a third of the name's length (at least
 * 1, at most 3 edits), or undefined when none is that close.
 */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance && distance <= limit) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? undefined : `did you mean '${best}'?`;
}
