// The graph tab: one network at one stage as layers, primitive ops or fused kernels.
import type { ModelSpec, NetworkName } from '../../../src/model/spec.ts';
import { buildNetworkView, type GraphLevel, stagesOf } from '../analyze.ts';
import { drawGraph } from './graph-svg.ts';

export interface GraphSelection {
  network: NetworkName;
  stage: number;
  level: GraphLevel;
}

export class GraphView {
  private spec: ModelSpec | undefined;
  private readonly network: HTMLSelectElement;
  private readonly stage: HTMLSelectElement;
  private readonly level: HTMLSelectElement;
  private readonly canvas: HTMLElement;
  private readonly caption: HTMLElement;

  constructor(root: HTMLElement, private readonly onChange: (selection: GraphSelection) => void) {
    this.network = root.querySelector<HTMLSelectElement>('#graph-network')!;
    this.stage = root.querySelector<HTMLSelectElement>('#graph-stage')!;
    this.level = root.querySelector<HTMLSelectElement>('#graph-level')!;
    this.canvas = root.querySelector<HTMLElement>('#graph-canvas')!;
    this.caption = root.querySelector<HTMLElement>('#graph-caption')!;
    for (const select of [this.network, this.stage, this.level]) select.addEventListener('change', () => this.render());
  }

  selection(): GraphSelection {
    return { network: this.network.value as NetworkName, stage: Number(this.stage.value), level: this.level.value as GraphLevel };
  }

  /** Shows the graph of a new model; keeps the selected stage when the new model has it. */
  setModel(spec: ModelSpec | undefined): void {
    this.spec = spec;
    this.render();
  }

  private refreshStages(spec: ModelSpec): void {
    const stages = stagesOf(spec, this.network.value as NetworkName);
    const previous = Number(this.stage.value);
    this.stage.replaceChildren(
      ...stages.map((res) => {
        const option = document.createElement('option');
        option.value = String(res);
        option.textContent = `${res}x${res}`;
        return option;
      }),
    );
    if (stages.includes(previous)) this.stage.value = String(previous);
    this.stage.disabled = stages.length === 0;
  }

  render(): void {
    const spec = this.spec;
    if (spec === undefined) {
      this.caption.textContent = 'The model has errors; the graph shows again once it checks.';
      return;
    }
    this.refreshStages(spec);
    const selection = this.selection();
    const stage = selection.network === 'mapping' ? spec.synthesis.stages[0]!.res : selection.stage;
    try {
      const start = performance.now();
      const view = buildNetworkView(spec, selection.network, stage, selection.level);
      const ms = performance.now() - start;
      this.canvas.replaceChildren(drawGraph(view.graph));
      this.caption.textContent = `${view.graph.title}: ${view.graph.nodes.length} nodes, built in ${ms.toFixed(0)} ms`;
    } catch (error) {
      this.canvas.replaceChildren();
      this.caption.textContent = `could not build the graph: ${(error as Error).message}`;
    }
    this.onChange(selection);
  }
}
