// The model editor: CodeMirror 6 with the .sgan mode, live diagnostics from the compiler front end
// (underlines, gutter marks and a list under the editor) and the `sganc fmt` formatter.
import { indentWithTab } from '@codemirror/commands';
import { type Diagnostic as EditorDiagnostic, linter, lintGutter } from '@codemirror/lint';
import type { Text } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import type { CheckResult } from '../../src/check/index.ts';
import type { Diagnostic } from '../../src/frontend/diagnostics.ts';
import { analyzeSource, formatModel } from './analyze.ts';
import { sganLanguage } from './sgan-language.ts';

export interface ModelEditor {
  view: EditorView;
  /** File name the diagnostics use. */
  file(): string;
  setText(text: string, file: string): void;
  /** Rewrites the text with the formatter; returns false (text unchanged) when it has syntax errors. */
  format(): boolean;
}

/** Offset range of a diagnostic in `doc`; a span past the end of its line is cut at the line end. */
function diagnosticRange(doc: Text, d: Diagnostic): { from: number; to: number } {
  const line = doc.line(Math.min(Math.max(1, d.line), doc.lines));
  const from = Math.min(line.from + d.column - 1, line.to);
  const to = Math.min(from + d.length, Math.max(line.to, from));
  return { from, to };
}

function renderDiagnosticList(list: HTMLElement, result: CheckResult, file: string, view: EditorView): void {
  list.replaceChildren();
  if (result.diagnostics.length === 0) {
    const ok = document.createElement('li');
    ok.className = 'ok';
    ok.textContent = result.spec === undefined ? 'no model' : `no errors: model ${result.spec.name}, ${result.spec.params.length} parameter tensors`;
    list.append(ok);
    return;
  }
  for (const d of result.diagnostics) {
    const item = document.createElement('li');
    item.className = `diagnostic ${d.severity}`;
    item.dataset['line'] = String(d.line);
    item.dataset['column'] = String(d.column);
    item.dataset['file'] = d.file;
    const hint = d.hint === undefined ? '' : ` (hint: ${d.hint})`;
    item.textContent = `${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}${hint}`;
    if (d.file === file) {
      item.addEventListener('click', () => {
        const { from, to } = diagnosticRange(view.state.doc, d);
        view.dispatch({ selection: { anchor: from, head: to }, scrollIntoView: true });
        view.focus();
      });
    }
    list.append(item);
  }
}

/**
 * Creates the editor in `parent`, listing diagnostics in `list`. `onCheck` receives every check
 * result, after each pause in typing (300 ms).
 */
export function createEditor(parent: HTMLElement, list: HTMLElement, text: string, file: string, onCheck: (result: CheckResult) => void): ModelEditor {
  let currentFile = file;
  const lintSource = linter(
    (view) => {
      const result = analyzeSource(view.state.doc.toString(), currentFile);
      renderDiagnosticList(list, result, currentFile, view);
      onCheck(result);
      // Diagnostics of imported files appear only in the list, because this editor shows one file.
      return result.diagnostics
        .filter((d) => d.file === currentFile)
        .map((d): EditorDiagnostic => ({
          ...diagnosticRange(view.state.doc, d),
          severity: d.severity,
          source: d.code,
          message: d.hint === undefined ? d.message : `${d.message}\nhint: ${d.hint}`,
        }));
    },
    { delay: 300 },
  );
  const view = new EditorView({
    parent,
    doc: text,
    extensions: [basicSetup, keymap.of([indentWithTab]), sganLanguage, lintSource, lintGutter(), EditorView.lineWrapping],
  });
  return {
    view,
    file: () => currentFile,
    setText(next: string, nextFile: string) {
      currentFile = nextFile;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } });
    },
    format() {
      const formatted = formatModel(view.state.doc.toString(), currentFile);
      if (formatted === undefined) return false;
      if (formatted !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: formatted } });
      return true;
    },
  };
}
