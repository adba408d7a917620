// The sampler tab: load a checkpoint (dropped, picked or served), generate images by seed with a
// truncation slider and noise control, and draw the style-mixing grid. A file that fails to load
// leaves the loaded checkpoint and the shown images as they were.
import type { ModelSpec } from '../../../src/model/spec.ts';
import type { Tensor } from '../../../src/runtime/tensor.ts';
import { CheckpointLoadError, readCheckpoint } from '../checkpoint.ts';
import { type Engine, fusedTypeScriptTarget } from '../engine.ts';
import { imagesToCanvas, parseSeedList, type SampleSetting, Sampler, type StyleGroup } from '../sampler.ts';

const GROUPS: StyleGroup[] = ['coarse', 'middle', 'fine'];

/** Returns the element with `id` under `root`; the page's HTML defines every id used here. */
function byId<T extends HTMLElement>(root: HTMLElement, id: string): T {
  const element = root.querySelector<T>(`#${id}`);
  if (element === null) throw new Error(`internal error: the page has no #${id}`);
  return element;
}

export class SamplerView {
  private sampler: Sampler | undefined;
  private noiseDraw = 0;
  /** Set once a GPU engine failed; later checkpoints then load straight onto the TypeScript executor. */
  private fellBack = false;
  private busy = false;
  private readonly message: HTMLElement;
  private readonly status: HTMLElement;
  private readonly psi: HTMLInputElement;
  private readonly psiValue: HTMLElement;
  private readonly cutoff: HTMLInputElement;
  private readonly noiseMode: HTMLSelectElement;
  private readonly seeds: HTMLInputElement;
  private readonly samples: HTMLElement;
  private readonly mixGrid: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly engine: Promise<Engine>,
    /** The model of the editor now, or undefined while it has errors. */
    private readonly currentSpec: () => ModelSpec | undefined,
    /** Called once when a GPU engine fails and sampling moves to the TypeScript executor. */
    private readonly onFallback: (reason: string) => void,
  ) {
    this.message = byId(root, 'sampler-message');
    this.status = byId(root, 'checkpoint-status');
    this.psi = byId(root, 'psi');
    this.psiValue = byId(root, 'psi-value');
    this.cutoff = byId(root, 'cutoff');
    this.noiseMode = byId(root, 'noise-mode');
    this.seeds = byId(root, 'seeds');
    this.samples = byId(root, 'samples');
    this.mixGrid = byId(root, 'mix-grid');

    const drop = byId(root, 'drop-zone');
    drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (event) => {
      event.preventDefault();
      drop.classList.remove('over');
      const file = event.dataTransfer?.files[0];
      if (file !== undefined) void this.loadFile(file);
    });
    const picker = byId<HTMLInputElement>(root, 'checkpoint-file');
    picker.addEventListener('change', () => {
      const file = picker.files?.[0];
      if (file !== undefined) void this.loadFile(file);
      picker.value = '';
    });
    this.psi.addEventListener('input', () => {
      this.psiValue.textContent = Number(this.psi.value).toFixed(2);
    });
    this.psi.addEventListener('change', () => void this.generate());
    byId(root, 'generate').addEventListener('click', () => void this.generate());
    byId(root, 'resample-noise').addEventListener('click', () => {
      this.noiseDraw += 1;
      void this.generate();
    });
    byId(root, 'mix-run').addEventListener('click', () => void this.mix());
  }

  /** Loads checkpoint bytes for the editor's model; on failure shows why and keeps the current state. */
  async loadBytes(bytes: Uint8Array, name: string): Promise<boolean> {
    const spec = this.currentSpec();
    if (spec === undefined) {
      this.showError('the model in the editor has errors; fix them before loading a checkpoint');
      return false;
    }
    try {
      const checkpoint = readCheckpoint(bytes, name, spec);
      const target = this.fellBack ? fusedTypeScriptTarget : (await this.engine).target;
      this.sampler = new Sampler(spec, checkpoint, target);
    } catch (error) {
      if (error instanceof CheckpointLoadError) {
        this.showError(error.message);
        return false;
      }
      throw error;
    }

    this.showLoaded(this.sampler);
    await this.generate();
    return true;
  }

  /** Shows the loaded checkpoint and resets the controls to its model's recipe. */
  private showLoaded(sampler: Sampler): void {
    const { spec, checkpoint } = sampler;
    const fade = checkpoint.alpha < 1 ? `, fading in with alpha ${checkpoint.alpha.toFixed(3)}` : '';
    this.status.textContent = `${checkpoint.name}: model ${spec.name}, ${checkpoint.res}x${checkpoint.res}${fade}, ${checkpoint.kimg.toFixed(3)} kimg`;
    this.message.textContent = '';
    this.message.classList.remove('error');

    this.psi.value = String(spec.train.truncation.psi);
    this.psiValue.textContent = spec.train.truncation.psi.toFixed(2);
    this.cutoff.value = String(spec.train.truncation.cutoff);
    this.noiseDraw = 0;

    for (const group of GROUPS) {
      const box = byId<HTMLInputElement>(this.root, `mix-${group}`);
      const layers = sampler.groupLayers(group);
      box.disabled = layers.length === 0;
      box.checked = group === 'coarse' && layers.length > 0;
      const label = layers.length === 0 ? '(none at this resolution)' : `(style layers ${layers.join(', ')})`;
      byId(this.root, `mix-${group}-layers`).textContent = label;
    }
  }

  private async loadFile(file: File): Promise<void> {
    await this.loadBytes(new Uint8Array(await file.arrayBuffer()), file.name);
  }

  private showError(text: string): void {
    this.message.textContent = text;
    this.message.classList.add('error');
  }

  private setting(): SampleSetting {
    const mode = this.noiseMode.value as SampleSetting['noise']['mode'];
    return {
      psi: Number(this.psi.value),
      cutoff: Math.max(0, Math.floor(Number(this.cutoff.value))),
      noise: { mode, draw: this.noiseDraw, seed: this.noiseDraw },
    };
  }

  private scale(): number {
    return Math.max(1, Math.floor(96 / (this.sampler?.resolution ?? 96)));
  }

  /** Runs `work` unless a run is in progress; shows its time or its error. */
  private async guarded(label: string, work: (sampler: Sampler) => Promise<void>): Promise<void> {
    const sampler = this.sampler;
    if (sampler === undefined) {
      this.showError('load a checkpoint first: drop a .safetensors file here or load the run\'s checkpoint');
      return;
    }
    if (this.busy) return;
    this.busy = true;
    this.root.dataset['busy'] = 'true';
    this.message.classList.remove('error');
    this.message.textContent = `${label}…`;
    const start = performance.now();
    try {
      try {
        await work(sampler);
      } catch (error) {
        if (sampler.target === fusedTypeScriptTarget) throw error;
        // A GPU target that fails on this model should not stop sampling: run the same programs on
        // the TypeScript executor from now on, and show that in the engine badge.
        const reason = `${(error as Error).message}`;
        console.warn(`${label} failed on the GPU target ${sampler.target.name}, falling back to TypeScript: ${reason}`);
        this.fellBack = true;
        this.onFallback(reason);
        this.sampler = new Sampler(sampler.spec, sampler.checkpoint, fusedTypeScriptTarget);
        await work(this.sampler);
      }
      this.message.textContent = `${label}: done in ${((performance.now() - start) / 1000).toFixed(2)} s`;
    } catch (error) {
      this.showError(`${label} failed: ${(error as Error).message}`);
    } finally {
      this.busy = false;
      this.root.dataset['busy'] = 'false';
    }
  }

  async generate(): Promise<void> {
    let seeds: number[];
    try {
      seeds = parseSeedList(this.seeds.value);
    } catch (error) {
      this.showError((error as Error).message);
      return;
    }
    await this.guarded('generate', async (sampler) => {
      const images = await sampler.generate(seeds, this.setting());
      const cols = Math.ceil(Math.sqrt(seeds.length));
      const canvas = imagesToCanvas(images, cols, this.scale());
      canvas.id = 'samples-canvas';
      canvas.dataset['seeds'] = seeds.join(',');
      this.samples.replaceChildren(canvas);
    });
  }

  async mix(): Promise<void> {
    let rowSeeds: number[];
    let colSeeds: number[];
    try {
      rowSeeds = parseSeedList(byId<HTMLInputElement>(this.root, 'mix-rows').value, 8);
      colSeeds = parseSeedList(byId<HTMLInputElement>(this.root, 'mix-cols').value, 8);
    } catch (error) {
      this.showError((error as Error).message);
      return;
    }
    const groups = GROUPS.filter((group) => byId<HTMLInputElement>(this.root, `mix-${group}`).checked);
    await this.guarded('style mixing', async (sampler) => {
      const { rows, cols, cells } = await sampler.mixGrid(rowSeeds, colSeeds, groups, this.setting());
      // Layout as `sganc mix`: a blank corner, the column sources on top, each row source before its cells.
      const [, c, h, w] = cells.shape as [number, number, number, number];
      const plane = c * h * w;
      const grid: Tensor = { shape: [(rowSeeds.length + 1) * (colSeeds.length + 1), c, h, w], data: new Float32Array((rowSeeds.length + 1) * (colSeeds.length + 1) * plane) };
      grid.data.set(cols.data, plane);
      rowSeeds.forEach((_, r) => {
        const at = (r + 1) * (colSeeds.length + 1);
        grid.data.set(rows.data.subarray(r * plane, (r + 1) * plane), at * plane);
        grid.data.set(cells.data.subarray(r * colSeeds.length * plane, (r + 1) * colSeeds.length * plane), (at + 1) * plane);
      });
      const canvas = imagesToCanvas(grid, colSeeds.length + 1, this.scale());
      canvas.id = 'mix-canvas';
      this.mixGrid.replaceChildren(canvas);
    });
  }
}
