// `sganc check`: checks a model and prints a summary table, or the summary as JSON.
import { checkFile } from '../../check/index.ts';
import { countParams, summarizeModel } from '../../check/summary.ts';
import type { ModelSpec } from '../../model/spec.ts';
import { printDiagnostics } from '../load.ts';
import { reportUsageError } from '../usage.ts';
import { attachNegativeValues, parseCommandLine } from '../../runtime/train/options.ts';

export const checkHelp = `Usage: sganc check FILE [--json]

Checks the model in FILE and everything it imports. On success it prints the parameter count of each
network, the stages with their channel counts and the style layers; on errors it prints every
diagnostic and exits with code 1.

Options:
  --json        print the summary as one JSON object: z, w, channels (image channels), resolution,
                networks.{mapping,synthesis,discriminator}.params (trainable values; synthesis counts
                every stage's ToRGB), styleLayers (count) and stages (resolutions, increasing)
  -h, --help    print this help`;

export function checkCommand(argv: string[]): number {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: attachNegativeValues(argv),
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${checkHelp}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) return usageError(`expected one model file, got ${parsed.positionals.length} arguments`);

  const result = checkFile(parsed.positionals[0]!);
  printDiagnostics(result);
  if (result.spec === undefined) return 1;
  const output = parsed.values.json ? `${JSON.stringify(summarizeModel(result.spec), null, 2)}\n` : formatSummary(result.spec);
  process.stdout.write(output);
  return 0;
}

/** Formats the human-readable summary: networks, stages and style layers. */
export function formatSummary(spec: ModelSpec): string {
  const mapping = countParams(spec, 'mapping');
  const synthesis = countParams(spec, 'synthesis');
  const discriminator = countParams(spec, 'discriminator');
  const number = (n: number): string => n.toLocaleString('en-US');
  const rows: [string, string][] = [
    ['mapping', number(mapping)],
    ['synthesis (with ToRGB)', number(synthesis)],
    ['generator', number(mapping + synthesis)],
    ['discriminator', number(discriminator)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const lines = [
    `model ${spec.name}: z ${spec.zDim}, w ${spec.wDim}, image ${spec.imageChannels} x ${spec.resolution} x ${spec.resolution}`,
    '',
    `${'network'.padEnd(width)}  ${'parameters'.padStart(valueWidth)}`,
    ...rows.map(([name, value]) => `${name.padEnd(width)}  ${value.padStart(valueWidth)}`),
    '',
    'stage  channels  style layers',
  ];
  for (const stage of spec.synthesis.stages) {
    const styles = stage.styleLayers.length === 0 ? '-' : stage.styleLayers.join(', ');
    lines.push(`${String(stage.res).padStart(5)}  ${String(stage.channels).padStart(8)}  ${styles}`);
  }
  lines.push('', `${spec.styleLayers.length} style layers, ${spec.params.length} parameter tensors`);
  return `${lines.join('\n')}\n`;
}

function usageError(message: string): number {
  return reportUsageError('check', message);
}
