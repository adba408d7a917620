// The one place that formats a usage error: the command's name and the message, then its help.

import { describeParseError } from '../runtime/train/options.ts';

/** Writes `sganc COMMAND: MESSAGE` and the command's help to stderr; returns exit code 2. */
export function reportUsageError(command: string, help: string, message: string): number {
  process.stderr.write(`sganc ${command}: ${describeParseError(message)}\n\n${help}\n`);
  return 2;
}
