// The one place that formats a usage error: the command's name, the message and a hint where the
// options are listed. The full help is printed only for --help, so the message stays in view.

import { describeParseError, usageHint } from '../runtime/train/options.ts';

/** Writes `sganc COMMAND: error: MESSAGE` and a hint to run --help to stderr; returns exit code 2. */
export function reportUsageError(command: string, message: string): number {
  process.stderr.write(`sganc ${command}: error: ${describeParseError(message)}\n${usageHint(`sganc ${command}`)}\n`);
  return 2;
}
