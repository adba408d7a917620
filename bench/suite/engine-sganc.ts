// sganc's own targets as engines: whatever the target registry offers, so a new target joins the
// table without edits here.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { checkFile } from '../../src/check/index.ts';
import { compileModel } from '../../src/emit/index.ts';
import { opGroup } from '../../src/ir/graph.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import type { TensorMap } from '../../src/runtime/tensor.ts';
import { AVAILABLE_TARGETS, getTarget } from '../../targets/index.ts';
import type { BenchCase } from './cases.ts';
import type { Engine, Runner } from './rows.ts';

type ProfileMap = Map<string, { ms: number; count: number }>;

/** A compiled program that can also report per-op counts, as the cpu target's does. */
interface ProfilingProgram extends CompiledProgram {
  runProfiled(feeds: TensorMap, profile: ProfileMap): Promise<TensorMap>;
}

function canProfile(program: CompiledProgram): program is ProfilingProgram {
  return typeof (program as Partial<ProfilingProgram>).runProfiled === 'function';
}

/** Profile entries that copy feeds in rather than launch a kernel. */
const NOT_KERNELS = new Set(['input', 'param', 'literal', 'fill', 'reshape']);

/**
 * Counts the kernel launches of one run: from the target's profile when it has one, else the primitive ops.
 * NOTE: the fallback overstates the launches of a target that fuses ops (wgsl, webgl), because
 * their compiled programs do not expose a kernel count.
 */
async function countKernels(program: CompiledProgram, feeds: TensorMap): Promise<number> {
  if (canProfile(program)) {
    const profile: ProfileMap = new Map();
    await program.runProfiled(feeds, profile);
    let count = 0;
    for (const [op, entry] of profile) if (!NOT_KERNELS.has(op)) count += entry.count;
    return count;
  }
  return program.graph.nodes.filter((node) => opGroup(node) !== 'leaf' && node.kind !== 'reshape').length;
}

function programRunner(c: BenchCase, programs: { name: string; program: CompiledProgram }[]): Runner {
  return {
    async run() {
      const outputs: TensorMap = {};
      for (const { name, program } of programs) {
        const result = await program.run(c.feeds);
        for (const [output, tensor] of Object.entries(result)) outputs[`${name}/${output}`] = tensor;
      }
      return outputs;
    },
    async kernels() {
      let total = 0;
      for (const { program } of programs) total += await countKernels(program, c.feeds);
      return total;
    },
  };
}

/** Times check + `compileModel` (IR, fusion plan and generated sources of every program) into a temporary folder. */
function compileRunner(file: string, targetName: string): Runner {
  const outRoot = mkdtempSync(join(tmpdir(), 'sganc-bench-'));
  return {
    async run() {
      const checked = checkFile(file);
      if (checked.spec === undefined) throw new Error(`${file} has errors; run sganc check ${file}`);
      compileModel({ spec: checked.spec, modelText: readFileSync(file, 'utf8'), target: targetName, outDir: join(outRoot, 'out'), modelFile: file });
      return {};
    },
    dispose() {
      rmSync(outRoot, { recursive: true, force: true });
    },
  };
}

/**
 * Wraps one sganc target as an engine. Only the engine with `timesCompile` runs the compile cases,
 * because compileModel plans the kernels with WebGPU limits whatever the target is named.
 */
export function sgancEngine(targetName: string, target: Target, timesCompile: boolean): Engine {
  return {
    name: `sganc ${targetName}`,
    sganc: true,
    skipReason: (c) => (c.peer.kind === 'compile' && !timesCompile ? 'compile time does not depend on the target; see the first sganc row' : undefined),
    async prepare(c) {
      if (c.peer.kind === 'compile') return compileRunner(c.peer.file, targetName);
      const programs = c.programs.map((p) => ({ name: p.name, program: target.compile(p.graph, `${c.id}-${p.name}`) }));
      return programRunner(c, programs);
    },
  };
}

/** Loads every target of the registry; a target that fails to load becomes a skip note. */
export function sgancEngines(threads: number): { engines: Engine[]; skipped: string[] } {
  const engines: Engine[] = [];
  const skipped: string[] = [];
  for (const name of AVAILABLE_TARGETS) {
    try {
      engines.push(sgancEngine(name, getTarget(name, { threads }), engines.length === 0));
    } catch (error) {
      skipped.push(`sganc ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { engines, skipped };
}
