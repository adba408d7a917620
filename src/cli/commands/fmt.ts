// `sganc fmt`: prints a .sgan file in canonical format, or rewrites it in place.
import { readFileSync, writeFileSync } from 'node:fs';
import { formatDiagnostics } from '../../frontend/diagnostics.ts';
import { formatSource } from '../../frontend/format.ts';
import { reportUsageError } from '../usage.ts';
import { attachNegativeValues, parseCommandLine } from '../../runtime/train/options.ts';

export const fmtHelp = `Usage: sganc fmt FILE [--write]

Formats FILE canonically: two-space indent, one statement per line, no semicolons, short layer lists
on one line, comments kept. Formatting does not change what the file means, and formatting twice
gives the same text. A file with syntax errors is not formatted; its diagnostics are printed and the
exit code is 1.

Options:
  --write       rewrite FILE in place (only when its text changes) instead of printing to stdout
  -h, --help    print this help`;

export function fmtCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: attachNegativeValues(argv),
      allowPositionals: true,
      options: { write: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${fmtHelp}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) return usageError(`expected one .sgan file, got ${parsed.positionals.length} arguments`);

  const path = parsed.positionals[0]!;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    process.stderr.write(`sganc fmt: cannot read ${path}: ${reason}\n`);
    return 1;
  }
  const result = formatSource(text, path);
  if (result.text === undefined) {
    process.stderr.write(formatDiagnostics(result.diagnostics, new Map([[path, text]])));
    return 1;
  }
  if (!parsed.values.write) {
    process.stdout.write(result.text);
    return 0;
  }
  if (result.text !== text) writeFileSync(path, result.text);
  return 0;
}

function usageError(message: string): number {
  return reportUsageError('fmt', message);
}
