// Entry points of the front end: .sgan text or a file in, a checked ModelSpec or diagnostics out.
import { resolve } from 'node:path';
import type { Diagnostic } from '../frontend/diagnostics.ts';
import { hasErrors, sortDiagnostics } from '../frontend/diagnostics.ts';
import type { ModelSpec } from '../model/spec.ts';
import { Expander } from './expand.ts';
import { checkModel } from './model.ts';
import { loadModules, readUtf8, type ReadFile } from './modules.ts';
import { Reporter } from './report.ts';

export interface CheckResult {
  /** Present if and only if no diagnostic is an error. */
  spec?: ModelSpec;
  /** Errors and warnings of the file and of every file it imports, in file and line order. */
  diagnostics: Diagnostic[];
  /** Text of every file read, by the file name diagnostics use, for `formatDiagnostics`. */
  sources: Map<string, string>;
}

export interface CheckOptions {
  /**
   * Reads an imported file given its absolute path; the default reads from disk. Standard library
   * imports (`import std.stylegan`) are read through it too, from the package's stdlib folder.
   */
  readFile?: ReadFile;
}

/** Checks .sgan source text; `file` names it in diagnostics and anchors relative imports. */
export function checkSource(text: string, file: string, opts: CheckOptions = {}): CheckResult {
  const report = new Reporter();
  const modules = loadModules(text, file, opts.readFile ?? readUtf8, report);
  // Syntax errors drop statements, so semantic checks would report those statements as missing.
  if (report.errorCount > 0) return { diagnostics: sortDiagnostics(report.diagnostics), sources: modules.sources };

  const expander = new Expander(modules.blocks, report);
  expander.checkBodies(modules.modules.map((m) => m.ast));

  const models = modules.root.ast.decls.filter((decl) => decl.kind === 'model');
  let spec: ModelSpec | undefined;
  if (models.length === 0) {
    const span = { file, offset: 0, line: 1, column: 1, length: 1 };
    report.error(span, 'E030', `${file} declares no model`, "a model file contains one 'model NAME { ... }'");
  } else {
    for (const extra of models.slice(1)) {
      report.error(
        extra.nameSpan,
        'E030',
        `model '${extra.name}' is the second model in ${file}`,
        'declare one model per file',
      );
    }
    spec = checkModel(models[0]!, file, expander, report);
  }

  const diagnostics = sortDiagnostics(report.diagnostics);
  const result: CheckResult = { diagnostics, sources: modules.sources };
  if (spec !== undefined && !hasErrors(diagnostics)) result.spec = spec;
  return result;
}

/** Reads and checks a .sgan file. A missing or unreadable file is reported as diagnostic E002. */
export function checkFile(path: string): CheckResult {
  let text: string;
  try {
    text = readUtf8(resolve(path));
  } catch (error) {
    const notFound = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const reason = notFound ? 'file not found' : (error as Error).message;
    const diagnostic: Diagnostic = {
      code: 'E002',
      severity: 'error',
      message: `cannot read ${path}: ${reason}`,
      file: path,
      line: 1,
      column: 1,
      length: 1,
    };
    return { diagnostics: [diagnostic], sources: new Map() };
  }
  return checkSource(text, path);
}
