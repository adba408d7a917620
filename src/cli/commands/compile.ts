// `sganc compile`: writes the generated trainer and sampler of a model into a folder.

import { basename, join, relative } from 'node:path';

import { compileModel, type ManifestProgram } from '../../emit/index.ts';
import { writeWebglKernels } from '../../../targets/webgl/emit.ts';
import { WebglLayoutError } from '../../../targets/webgl/layout.ts';
import { selectTargetName } from '../../../targets/index.ts';
import { writeWgslKernels } from '../../../targets/wgsl/emit.ts';
import { TargetError } from '../../runtime/train/targets.ts';
import { readModelText } from './train.ts';
import { loadModelOrExit } from '../load.ts';
import { reportUsageError } from '../usage.ts';
import { attachNegativeValues, parseCommandLine } from '../../runtime/train/options.ts';

export const compileHelp = `Usage: sganc compile FILE [--target NAME] [--out DIR]

Compiles the model in FILE and writes into DIR: train.ts (the trainer, with the model's training
recipe as an editable object), generate.ts (a sampler for checkpoints), model.json (the checked
model), model.sgan (a copy of FILE), manifest.json (the programs of each training phase with their
primitive op counts, fused kernel counts and peak buffer bytes) and package.json. With --target
webgl it also writes kernels/: one module of gpu.js kernel functions per program and index.json
with each kernel's texture size and arguments. With --target wgsl it writes kernels/ with one
WGSL file per kernel of every program and index.json with their bindings and dispatch. Run the
trainer with: npx tsx DIR/train.ts --help.

Options:
  --target NAME   target of the programs: auto (default: wgsl on a hardware WebGPU adapter,
                  else cpu), cpu, ref, webgl (gpu.js) or wgsl (WebGPU)
  --out DIR       output folder (default out/<model name>)
  --report        print the manifest's programs as a table
  -h, --help      print this help

Set SGAN_DEBUG=1..4 to print the optimizer's passes, kernels, IR and kernel expressions (see
docs/debugging.md).`;

/** Entry point of `sganc compile`; returns the exit code. */
export async function compileCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine({
      args: attachNegativeValues(argv),
      allowPositionals: true,
      options: {
        target: { type: 'string', default: 'auto' },
        out: { type: 'string' },
        report: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${compileHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) return usageError(`expected one model file, got ${positionals.length} arguments`);

  let target: string;
  try {
    target = await selectTargetName(values.target);
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    return usageError(error.message);
  }
  const file = positionals[0]!;
  const spec = loadModelOrExit(file);
  const outDir = values.out ?? join('out', spec.name);
  const result = compileModel({ spec, modelText: readModelText(file), target, outDir, modelFile: file });
  let kernelFiles: string[] = [];
  try {
    if (target === 'webgl') kernelFiles = writeWebglKernels(spec, result.outDir);
    if (target === 'wgsl') kernelFiles = writeWgslKernels(spec, result.outDir);
  } catch (error) {
    if (!(error instanceof WebglLayoutError)) throw error;
    process.stderr.write(`sganc compile: error: ${error.message}\n`);
    return 1;
  }

  const shown = relative(process.cwd(), result.outDir) || '.';
  process.stdout.write(`compiled ${spec.name} (${basename(file)}) for target ${target} into ${shown}/\n`);
  process.stdout.write(`  ${result.manifest.programs.length} programs in manifest.json\n`);
  const kernelKind = target === 'wgsl' ? 'WGSL kernel files' : 'kernel modules';
  if (kernelFiles.length > 0) process.stdout.write(`  ${kernelFiles.length - 1} ${kernelKind} in kernels/\n`);
  if (values.report) process.stdout.write(formatProgramTable(result.manifest.programs));
  process.stdout.write(`train with: npx tsx ${join(shown, 'train.ts')} --help\n`);
  return 0;
}

function usageError(message: string): number {
  return reportUsageError('compile', message);
}

/** Formats the manifest's programs as a fixed-width table, one row per program. */
export function formatProgramTable(programs: readonly ManifestProgram[]): string {
  const header = ['program', 'stage', 'fading', 'batch', 'primitive ops', 'kernels', 'peak bytes'];
  const rows = programs.map((p) => [
    p.name,
    String(p.stage),
    p.fading ? 'yes' : 'no',
    String(p.batch),
    String(p.primitiveOps),
    String(p.kernels),
    String(p.peakBytes),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  // The name column is left-aligned, the numbers right-aligned.
  const format = (row: string[]): string =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [format(header), ...rows.map(format)].join('\n') + '\n';
}
