// The playground page: wires the editor, the graph, kernel, sampler and run tabs, and the engine.
// Query parameters: `example=<file>` opens a bundled example, and `engine=webgpu|webgl2|cpu` picks
// the sampling engine (the TypeScript executor stays the fallback).
import './prelude.ts';

import type { CheckResult } from '../../src/check/index.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { analyzeSource } from './analyze.ts';
import { createEditor } from './editor.ts';
import { type EngineChoice, pickEngine } from './engine.ts';
import { examples } from './stdlib.ts';
import { GraphView } from './views/graph-view.ts';
import { KernelsView } from './views/kernels-view.ts';
import { fetchRun, fetchRunFile, type RunInfo, RunView } from './views/run-view.ts';
import { SamplerView } from './views/sampler-view.ts';

const params = new URLSearchParams(location.search);
const engineChoices: EngineChoice[] = ['auto', 'webgpu', 'webgl2', 'cpu'];
const engine = pickEngine(engineChoices.find((choice) => choice === params.get('engine')) ?? 'auto');
const engineBadge = document.querySelector<HTMLElement>('#engine')!;
engine.then(
  (picked) => {
    engineBadge.textContent = `engine: ${picked.label}`;
    engineBadge.title = picked.reason === '' ? picked.label : `${picked.label}: ${picked.reason}`;
    engineBadge.dataset['engine'] = picked.label;
  },
  (error: unknown) => {
    engineBadge.textContent = `engine failed: ${(error as Error).message}`;
  },
);

let spec: ModelSpec | undefined;
let lastSpecKey = '';

const viewsRoot = document.querySelector<HTMLElement>('#views')!;
const kernels = new KernelsView(document.querySelector<HTMLElement>('#panel-kernels')!);
const graph = new GraphView(document.querySelector<HTMLElement>('#panel-graph')!, (selection) => kernels.update(spec, selection));
const sampler = new SamplerView(
  document.querySelector<HTMLElement>('#panel-sampler')!,
  engine,
  () => spec,
  (reason) => {
    void engine.then((picked) => {
      engineBadge.textContent = `engine: CPU (TypeScript), after ${picked.label} failed`;
      engineBadge.title = `${picked.label} failed, so sampling moved to the TypeScript executor: ${reason}`;
      engineBadge.dataset['engine'] = 'CPU (TypeScript)';
    });
  },
);

/** Redraws the graph views only when the checked model changes, not on every keystroke. */
function onCheck(result: CheckResult): void {
  spec = result.spec;
  const key = spec === undefined ? '' : JSON.stringify(spec);
  if (spec !== undefined && key === lastSpecKey) return;
  lastSpecKey = key;
  graph.setModel(spec);
}

const exampleSelect = document.querySelector<HTMLSelectElement>('#example')!;
for (const example of examples) {
  const option = document.createElement('option');
  option.value = example.file;
  option.textContent = example.file;
  exampleSelect.append(option);
}
const initial = examples.find((e) => e.file === params.get('example')) ?? examples[0]!;
exampleSelect.value = initial.file;

const editor = createEditor(
  document.querySelector<HTMLElement>('#editor')!,
  document.querySelector<HTMLElement>('#diagnostics')!,
  initial.text,
  initial.file,
  onCheck,
);
exampleSelect.addEventListener('change', () => {
  const example = examples.find((e) => e.file === exampleSelect.value);
  if (example !== undefined) editor.setText(example.text, example.file);
});

const formatMessage = document.querySelector<HTMLElement>('#format-message')!;
document.querySelector<HTMLButtonElement>('#format')!.addEventListener('click', () => {
  formatMessage.textContent = editor.format() ? '' : 'not formatted: fix the syntax errors first';
});

function selectTab(name: string): void {
  for (const tab of viewsRoot.querySelectorAll<HTMLButtonElement>('nav button')) {
    const selected = tab.dataset['tab'] === name;
    tab.setAttribute('aria-selected', String(selected));
    document.querySelector<HTMLElement>(`#panel-${tab.dataset['tab']}`)!.hidden = !selected;
  }
}
for (const tab of viewsRoot.querySelectorAll<HTMLButtonElement>('nav button')) {
  tab.addEventListener('click', () => selectTab(tab.dataset['tab']!));
}

/** Puts the run's model in the editor, checks it at once, then loads the run's newest checkpoint. */
async function sampleFromRun(info: RunInfo): Promise<void> {
  const file = `${info.name}/model.sgan`;
  if (editor.view.state.doc.toString() !== info.model || editor.file() !== file) editor.setText(info.model, file);
  onCheck(analyzeSource(info.model, file));
  if (info.checkpoint === null) return;
  selectTab('sampler');
  await sampler.loadBytes(await fetchRunFile(info.checkpoint), info.checkpoint);
}

async function connectRun(): Promise<void> {
  let info: RunInfo | undefined;
  try {
    info = await fetchRun();
  } catch {
    // A static copy of the app has no server API; the run tab stays hidden.
    return;
  }
  if (info === undefined) return;
  viewsRoot.querySelector<HTMLButtonElement>('nav button[data-tab="run"]')!.hidden = false;
  const runView = new RunView(document.querySelector<HTMLElement>('#panel-run')!, (latest) => void sampleFromRun(latest));
  runView.show(info);
  runView.startPolling();
  const loadServed = document.querySelector<HTMLButtonElement>('#load-served')!;
  loadServed.hidden = false;
  loadServed.addEventListener('click', () => {
    void fetchRun().then((latest) => (latest === undefined ? undefined : sampleFromRun(latest)));
  });
  // An example named in the URL stays in the editor; otherwise the run's model replaces it.
  if (params.get('example') === null) {
    editor.setText(info.model, `${info.name}/model.sgan`);
    selectTab('run');
  }
}

void connectRun();
