// Loads a .sgan file and everything it imports, and collects the blocks they declare into one
// namespace. `import std.X` reads stdlib/X.sgan of this package; `import a.b` reads a/b.sgan next to
// the importing file. A file imported twice is loaded once; an import that leads back to a file still
// being loaded is a cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlockDecl, ImportDecl, SourceFile } from '../frontend/ast.ts';
import { didYouMean } from '../frontend/diagnostics.ts';
import { parseSource } from '../frontend/parse.ts';
import type { Reporter } from './report.ts';

export const stdlibDir = fileURLToPath(new URL('../../stdlib/', import.meta.url));

export interface LoadedModule {
  /** The name diagnostics use for the file. */
  file: string;
  ast: SourceFile;
}

export interface BlockEntry {
  decl: BlockDecl;
  file: string;
}

export interface ModuleSet {
  root: LoadedModule;
  modules: LoadedModule[];
  blocks: Map<string, BlockEntry>;
  /** Text of every loaded file, by diagnostic file name, for printing source lines. */
  sources: Map<string, string>;
}

export type ReadFile = (path: string) => string;

export const readUtf8: ReadFile = (path) => readFileSync(path, 'utf8');

export function loadModules(text: string, file: string, readFile: ReadFile, report: Reporter): ModuleSet {
  const sources = new Map<string, string>([[file, text]]);
  const modules: LoadedModule[] = [];
  const loaded = new Set<string>();
  const loading: string[] = [];

  const visit = (source: string, name: string, absolute: string): LoadedModule => {
    loading.push(absolute);
    const parsed = parseSource(source, name);
    report.diagnostics.push(...parsed.diagnostics);
    const module: LoadedModule = { file: name, ast: parsed.ast };
    for (const decl of parsed.ast.decls) {
      if (decl.kind !== 'import') continue;
      const target = resolveImport(decl, absolute);
      if (loading.includes(target)) {
        const cycle = [...loading.slice(loading.indexOf(target)), target].map(displayName).join(' -> ');
        report.error(
          decl.span,
          'E021',
          `import cycle: ${cycle}`,
          'move the shared blocks into a file that both can import',
        );
        continue;
      }
      if (loaded.has(target)) continue;
      let importedText: string;
      try {
        importedText = readFile(target);
      } catch {
        report.error(
          decl.span,
          'E020',
          `cannot find module '${decl.path.join('.')}' (looked for ${displayName(target)})`,
          importHint(decl),
        );
        continue;
      }
      const importedName = displayName(target);
      sources.set(importedName, importedText);
      const imported = visit(importedText, importedName, target);
      for (const inner of imported.ast.decls) {
        if (inner.kind === 'model') {
          report.error(
            decl.span,
            'E031',
            `imported module '${decl.path.join('.')}' declares model '${inner.name}'`,
            'an imported file may declare blocks only',
          );
        }
      }
    }
    loading.pop();
    loaded.add(absolute);
    modules.push(module);
    return module;
  };

  const root = visit(text, file, resolve(file));
  return { root, modules, blocks: collectBlocks(modules, report), sources };
}

function resolveImport(decl: ImportDecl, importer: string): string {
  if (decl.path[0] === 'std' && decl.path.length > 1) return join(stdlibDir, ...decl.path.slice(1)) + '.sgan';
  return join(dirname(importer), ...decl.path) + '.sgan';
}

/** Shows a path relative to the working directory when it lies below it. */
function displayName(absolute: string): string {
  const relativePath = relative(process.cwd(), absolute);
  return relativePath.startsWith('..') || isAbsolute(relativePath) ? absolute : relativePath;
}

function importHint(decl: ImportDecl): string | undefined {
  if (decl.path[0] !== 'std') return 'imports name a .sgan file relative to the importing file, with dots for folders';
  let available: string[] = [];
  try {
    available = readdirSync(stdlibDir)
      .filter((name) => name.endsWith('.sgan'))
      .map((name) => `std.${name.slice(0, -'.sgan'.length)}`);
  } catch {
    return undefined;
  }
  return didYouMean(decl.path.join('.'), available) ?? `the standard library provides ${available.join(', ')}`;
}

function collectBlocks(modules: LoadedModule[], report: Reporter): Map<string, BlockEntry> {
  const blocks = new Map<string, BlockEntry>();
  for (const module of modules) {
    for (const decl of module.ast.decls) {
      if (decl.kind !== 'block') continue;
      const existing = blocks.get(decl.name);
      if (existing !== undefined) {
        const at = existing.decl.nameSpan;
        report.error(
          decl.nameSpan,
          'E022',
          `block '${decl.name}' is already declared at ${at.file}:${at.line}:${at.column}`,
          'rename one of the blocks',
        );
        continue;
      }
      blocks.set(decl.name, { decl, file: module.file });
    }
  }
  return blocks;
}
