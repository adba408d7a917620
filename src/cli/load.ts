// Model loading for CLI commands: check a .sgan file and either return its ModelSpec or print the
// diagnostics and exit.
import { checkFile, type CheckResult } from '../check/index.ts';
import { formatDiagnostics } from '../frontend/diagnostics.ts';
import type { ModelSpec } from '../model/spec.ts';

/** Prints a check result's diagnostics (errors and warnings) to stderr. */
export function printDiagnostics(result: CheckResult): void {
  if (result.diagnostics.length === 0) return;
  process.stderr.write(formatDiagnostics(result.diagnostics, result.sources));
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) process.stderr.write(`${errors} error${errors === 1 ? '' : 's'}\n`);
}

/**
 * Checks the .sgan file at `path` and returns its ModelSpec. On any error, including a missing
 * file, it prints the diagnostics to stderr and exits the process with code 1.
 */
export function loadModelOrExit(path: string): ModelSpec {
  const result = checkFile(path);
  printDiagnostics(result);
  if (result.spec === undefined) process.exit(1);
  return result.spec;
}
