// The compiled programs of one training phase, built and compiled once per (stage, batch, fading) and
// then reused for every iteration of that phase and of any later phase with the same key.

import type { Graph } from '../../ir/graph.ts';
import { buildDiscriminatorStep, buildGenerator, buildGeneratorStep } from '../../layers/programs.ts';
import type { ModelSpec, TrainRecipe } from '../../model/spec.ts';
import type { CompiledProgram, Target } from '../target.ts';
import type { TensorMap } from '../tensor.ts';

/** The three programs one training iteration runs. */
export interface PhasePrograms {
  /** Fakes for the discriminator step (noise 'random'). */
  generator: CompiledProgram;
  generatorStep: CompiledProgram;
  discriminatorStep: CompiledProgram;
}

export interface PhaseKey {
  stage: number;
  batch: number;
  fading: boolean;
}

/** Compiles training programs on demand and keeps them for the rest of the run. */
export class ProgramCache {
  private readonly phases = new Map<string, PhasePrograms>();
  private readonly samplers = new Map<string, CompiledProgram>();

  constructor(
    private readonly spec: ModelSpec,
    private readonly recipe: TrainRecipe,
    private readonly target: Target,
  ) {}

  /** Returns the programs of a phase, compiling them on first use. */
  phase(key: PhaseKey): PhasePrograms {
    const id = phaseId(key);
    let programs = this.phases.get(id);
    if (programs === undefined) {
      const base = `${this.spec.name}.${id}`;
      programs = {
        generator: this.target.compile(buildGenerator(this.spec, { ...key, noise: 'random' }), `${base}.generator`),
        generatorStep: this.target.compile(buildGeneratorStep(this.spec, key), `${base}.generator_step`),
        discriminatorStep: this.target.compile(
          buildDiscriminatorStep(this.spec, { ...key, r1Gamma: this.recipe.r1Gamma }),
          `${base}.discriminator_step`,
        ),
      };
      this.phases.set(id, programs);
    }
    return programs;
  }

  /** Returns the generator program used for sample grids, compiling it on first use. */
  sampler(key: PhaseKey): CompiledProgram {
    const id = phaseId(key);
    let program = this.samplers.get(id);
    if (program === undefined) {
      program = this.target.compile(buildGenerator(this.spec, { ...key, noise: 'random' }), `${this.spec.name}.${id}.sampler`);
      this.samplers.set(id, program);
    }
    return program;
  }
}

function phaseId(key: PhaseKey): string {
  return `r${key.stage}_n${key.batch}${key.fading ? '_fade' : ''}`;
}

/**
 * Picks from `sources` (searched in order) every input and parameter that `graph` reads, so one map of
 * all parameters can feed programs that use only some of them. A missing feed is an internal error.
 */
export function feedsFor(graph: Graph, ...sources: TensorMap[]): TensorMap {
  const feeds: TensorMap = {};
  for (const node of graph.nodes) {
    if (node.kind !== 'input' && node.kind !== 'param') continue;
    const value = findTensor(node.name, sources);
    if (value === undefined) throw new Error(`internal error: no feed for ${node.kind} '${node.name}'`);
    feeds[node.name] = value;
  }
  return feeds;
}

function findTensor(name: string, sources: TensorMap[]): TensorMap[string] | undefined {
  for (const source of sources) {
    const value = source[name];
    if (value !== undefined) return value;
  }
  return undefined;
}
