// The back end of `sganc compile`: writes the generated trainer and sampler, the checked model and a
// manifest of the programs each training phase runs into one output folder.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { opGroup, type Graph } from '../ir/graph.ts';
import { buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../layers/programs.ts';
import type { ModelSpec } from '../model/spec.ts';
import { compileKernels, webgpuLimits } from '../opt/index.ts';
import { minibatchSize } from '../runtime/schedule.ts';
import { emitSamplerSource, emitTrainerSource } from './sources.ts';

/** Root folder of this package (two levels above this file). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Returns the version in this package's package.json. */
export function compilerVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Returns the hash that names a compiled model: SHA-256 (first 16 hex digits) of the model text,
 * the checked model, the compiler version and the target name. The checked model covers what
 * imported stdlib blocks contribute. Its `file` field is left out, so the same model reached by
 * another path keeps its hash and its runs stay resumable.
 */
export function modelHash(modelText: string, spec: ModelSpec, version: string, target: string): string {
  const checked = JSON.stringify({ ...spec, file: '' });
  return createHash('sha256')
    .update(modelText)
    .update('\0')
    .update(checked)
    .update('\0')
    .update(version)
    .update('\0')
    .update(target)
    .digest('hex')
    .slice(0, 16);
}

/** One program of the manifest. */
export interface ManifestProgram {
  name: string;
  stage: number;
  fading: boolean;
  batch: number;
  /** Nodes of the primitive graph other than inputs, parameters and constants. */
  primitiveOps: number;
  /** Fused kernels after optimization, for WebGPU's default limits. */
  kernels: number;
  /** Arena bytes that the planned kernel buffers need (inputs and parameters excluded). */
  peakBytes: number;
}

export interface Manifest {
  model: string;
  compilerVersion: string;
  target: string;
  modelHash: string;
  programs: ManifestProgram[];
}

export interface CompileRequest {
  spec: ModelSpec;
  modelText: string;
  /** Concrete target name, such as 'ref'. */
  target: string;
  outDir: string;
  /** The model file as the user named it. */
  modelFile: string;
}

export interface CompileResult {
  outDir: string;
  modelHash: string;
  files: string[];
  manifest: Manifest;
}

/** Writes train.ts, generate.ts, model.json, model.sgan, manifest.json and package.json into `outDir`. */
export function compileModel(request: CompileRequest): CompileResult {
  const { spec, modelText, target } = request;
  const outDir = resolve(request.outDir);
  const version = compilerVersion();
  const hash = modelHash(modelText, spec, version, target);
  mkdirSync(outDir, { recursive: true });

  const info = {
    spec,
    runtimeImport: importSpecifier(outDir, join(PACKAGE_ROOT, 'src', 'runtime', 'trainer.ts')),
    specImport: importSpecifier(outDir, join(PACKAGE_ROOT, 'src', 'model', 'spec.ts')),
    modelHash: hash,
    target,
    compilerVersion: version,
    modelFile: request.modelFile,
  };
  const manifest: Manifest = { model: spec.name, compilerVersion: version, target, modelHash: hash, programs: manifestPrograms(spec) };

  const files: [string, string][] = [
    // Marks the folder as ES modules, so the generated files' top-level await works wherever it lies.
    ['package.json', JSON.stringify({ type: 'module', private: true }, null, 2) + '\n'],
    ['model.json', JSON.stringify(spec, null, 2) + '\n'],
    ['model.sgan', modelText],
    ['manifest.json', JSON.stringify(manifest, null, 2) + '\n'],
    ['train.ts', emitTrainerSource(info)],
    ['generate.ts', emitSamplerSource(info)],
  ];
  for (const [name, text] of files) writeFileAtomic(join(outDir, name), text);
  return { outDir, modelHash: hash, files: files.map(([name]) => join(outDir, name)), manifest };
}

/** One program of a training phase with its graph, before compilation. */
export interface PhaseGraph {
  name: string;
  stage: number;
  fading: boolean;
  batch: number;
  graph: Graph;
}

/** Builds the graphs of every training phase: each resolution stable, and fading above the start. */
export function phaseGraphs(spec: ModelSpec): PhaseGraph[] {
  const phases: PhaseGraph[] = [];
  const recipe = spec.train;
  for (const stage of spec.synthesis.stages) {
    if (stage.res < recipe.grow.startRes) continue;
    const batch = minibatchSize(recipe, stage.res);
    const fadings = stage.res > recipe.grow.startRes ? [true, false] : [false];
    for (const fading of fadings) {
      const key = { stage: stage.res, batch, fading };
      phases.push({ name: 'generator', ...key, graph: buildGenerator(spec, { ...key, noise: 'random' }) });
      phases.push({ name: 'generator_step', ...key, graph: buildGeneratorStep(spec, key) });
      phases.push({ name: 'discriminator_step', ...key, graph: buildDiscriminatorStep(spec, { ...key, r1Gamma: recipe.r1Gamma }) });
    }
  }
  return phases;
}

/** Lists the programs of every training phase with their op counts, kernel counts and peak bytes. */
export function manifestPrograms(spec: ModelSpec): ManifestProgram[] {
  return phaseGraphs(spec).map(({ name, stage, fading, batch, graph }) => {
    const { program } = compileKernels(graph, webgpuLimits(), { label: `${name} ${stage}${fading ? ' fading' : ''}` });
    return {
      name,
      stage,
      fading,
      batch,
      primitiveOps: countPrimitiveOps(graph),
      kernels: program.kernels.length,
      peakBytes: program.peakBytes,
    };
  });
}

export function countPrimitiveOps(graph: Graph): number {
  return graph.nodes.filter((node) => opGroup(node) !== 'leaf').length;
}

/** Returns a relative import specifier (with ./ or ../) from `fromDir` to `file`, with / separators. */
function importSpecifier(fromDir: string, file: string): string {
  const path = relative(fromDir, file).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
