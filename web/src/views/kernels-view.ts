// The kernels tab: the fused kernels of the selected network and stage, with the generated WGSL or
// GLSL of each kernel when those code generators are part of this build, and the kernel IR always.
import type { Graph } from '../../../src/ir/graph.ts';
import type { ModelSpec } from '../../../src/model/spec.ts';
import { buildNetworkView, buildPrimitiveGraph, type NetworkView } from '../analyze.ts';
import { loadWebglModule, loadWgslModule } from '../target-modules.ts';
import type { GraphSelection } from './graph-view.ts';


export type KernelLanguage = 'wgsl' | 'glsl' | 'ir';

/** Names of the generated code in messages. The WebGL target writes gpu.js kernel functions, which gpu.js turns into GLSL. */
const LANGUAGE_NAMES = { wgsl: 'WGSL', glsl: 'WebGL2 (gpu.js)' } as const;

/** Kernel names and their source texts, in dispatch order. */
interface KernelSources {
  names: string[];
  sources: string[];
}

/**
 * Turns what a code generator returns into named sources. It accepts an array of strings or of
 * objects with `name` and `source` (or `code`), or a Map or record from kernel name to text, because
 * the generators' return types differ. The generators plan kernels under their own limits, so
 * their kernel list can differ from the WebGPU-limit list that the kernel IR shows.
 */
function normalizeSources(value: unknown, fallbackNames: readonly string[]): KernelSources {
  const text = (entry: unknown): string => {
    if (typeof entry === 'string') return entry;
    if (entry !== null && typeof entry === 'object') {
      const record = entry as Record<string, unknown>;
      const source = record['source'] ?? record['code'];
      if (typeof source === 'string') return source;
    }
    return JSON.stringify(entry, null, 2);
  };
  const nameOf = (entry: unknown, index: number): string => {
    const name = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>)['name'] : undefined;
    return typeof name === 'string' ? name : (fallbackNames[index] ?? `kernel ${index}`);
  };
  if (Array.isArray(value)) return { names: value.map(nameOf), sources: value.map(text) };
  if (value instanceof Map) return { names: [...value.keys()].map(String), sources: [...value.values()].map(text) };
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return { names: entries.map(([name]) => name), sources: entries.map(([, entry]) => text(entry)) };
  }
  return { names: [], sources: [] };
}

async function generatedSources(language: 'wgsl' | 'glsl', graph: Graph, names: readonly string[]): Promise<KernelSources | string> {
  const load = language === 'wgsl' ? loadWgslModule : loadWebglModule;
  const exportName = language === 'wgsl' ? 'wgslKernelSources' : 'webglKernelSources';
  if (load === undefined) return `The ${LANGUAGE_NAMES[language]} code generator is not part of this build; the kernel IR is shown instead.`;
  const module = await load();
  const generate = module[exportName];
  if (typeof generate !== 'function') return `targets/${language === 'wgsl' ? 'wgsl' : 'webgl'}/index.ts has no ${exportName}; the kernel IR is shown instead.`;
  return normalizeSources(await (generate as (graph: Graph) => unknown)(graph), names);
}

export class KernelsView {
  private spec: ModelSpec | undefined;
  private selection: GraphSelection | undefined;
  private readonly list: HTMLElement;
  private readonly code: HTMLElement;
  private readonly note: HTMLElement;
  private readonly language: HTMLSelectElement;
  private selected = 0;
  private renderCount = 0;

  constructor(root: HTMLElement) {
    this.list = root.querySelector<HTMLElement>('#kernel-list')!;
    this.code = root.querySelector<HTMLElement>('#kernel-code')!;
    this.note = root.querySelector<HTMLElement>('#kernel-note')!;
    this.language = root.querySelector<HTMLSelectElement>('#kernel-language')!;
    this.language.addEventListener('change', () => void this.render());
  }

  update(spec: ModelSpec | undefined, selection: GraphSelection): void {
    this.spec = spec;
    this.selection = selection;
    this.selected = 0;
    void this.render();
  }

  async render(): Promise<void> {
    const spec = this.spec;
    const selection = this.selection;
    if (spec === undefined || selection === undefined) return;
    // A newer render may start while this one awaits a generator; only the newest writes the page.
    const ticket = ++this.renderCount;
    const stage = selection.network === 'mapping' ? spec.synthesis.stages[0]!.res : selection.stage;

    let view: NetworkView;
    try {
      view = buildNetworkView(spec, selection.network, stage, 'kernels');
    } catch (error) {
      this.note.textContent = `could not compile the kernels: ${(error as Error).message}`;
      return;
    }
    const program = view.program!;
    const summary = `${view.graph.title}: ${program.kernels.length} kernels, arena ${(program.peakBytes / 1024).toFixed(1)} KiB at batch 1.`;
    const listing = await this.codeListing(view, buildPrimitiveGraph(spec, selection.network, stage));
    if (ticket !== this.renderCount) return;

    this.note.textContent = `${summary}${listing.note}`;
    this.showListing(listing);
  }

  /** Returns the kernels and their code in the selected language, with the kernel IR as the fallback. */
  private async codeListing(view: NetworkView, primitive: Graph): Promise<KernelSources & { note: string }> {
    const program = view.program!;
    const irListing = {
      names: program.kernels.map((kernel) => `${kernel.name} (${kernel.kind})`),
      sources: view.kernelText!,
    };
    const language = this.language.value as KernelLanguage;
    if (language === 'ir') return { ...irListing, note: '' };

    const name = LANGUAGE_NAMES[language];
    try {
      const generated = await generatedSources(language, primitive, program.kernels.map((kernel) => kernel.name));
      if (typeof generated === 'string') return { ...irListing, note: ` ${generated}` };
      return { ...generated, note: ` The ${name} generator planned ${generated.names.length} kernels under its own limits.` };
    } catch (error) {
      return { ...irListing, note: ` The ${name} generator failed: ${(error as Error).message}; the kernel IR is shown instead.` };
    }
  }

  private showListing({ names, sources }: KernelSources): void {
    const items = names.map((name, k) => {
      const item = document.createElement('li');
      item.textContent = name;
      item.className = k === this.selected ? 'selected' : '';
      item.addEventListener('click', () => {
        this.selected = k;
        this.list.querySelectorAll('li').forEach((li, i) => li.classList.toggle('selected', i === k));
        this.code.textContent = sources[k] ?? '';
      });
      return item;
    });
    this.list.replaceChildren(...items);
    this.code.textContent = sources[this.selected] ?? '';
  }
}
