// Sampling in the page, with the same inputs as the CLI's sampling commands. Image i's z comes from
// its seed and its noise maps from `seed + 2^32` (or one shared noise seed). Truncation applies psi
// to the style layers below the cutoff, and the mix vector picks one of two w's per style layer.
import { buildGenerator } from '../../src/layers/programs.ts';
import type { ModelSpec } from '../../src/model/spec.ts';
import { noiseForSeeds, STYLE_GROUPS } from '../../src/runtime/sample/inputs.ts';
import type { CompiledProgram, Target } from '../../src/runtime/target.ts';
import { scalarTensor, tensor, type Tensor, type TensorMap } from '../../src/runtime/tensor.ts';
import { feedsFor } from '../../src/runtime/train/programs.ts';
import { latentsForSeeds, truncationVector } from '../../src/runtime/train/sample.ts';
import { styleLayersAtStage } from '../../src/runtime/train/semantics.ts';
import type { SamplerCheckpoint } from './checkpoint.ts';

export type StyleGroup = keyof typeof STYLE_GROUPS;

/** Per-pixel noise: each image's own maps, one shared map set for all images, or none. */
export interface NoiseSetting {
  mode: 'random' | 'const' | 'none';
  /** With 'random': 0 gives the CLI's maps; draw k > 0 adds k * 2^20 to every noise seed. */
  draw: number;
  /** With 'const': the noise seed of every image. */
  seed: number;
}

export interface SampleSetting {
  psi: number;
  cutoff: number;
  noise: NoiseSetting;
}

/** Offset between successive noise draws of one seed; far above any seed list the page accepts. */
const NOISE_DRAW_STRIDE = 2 ** 20;

export class Sampler {
  private readonly programs = new Map<string, CompiledProgram>();

  constructor(
    readonly spec: ModelSpec,
    readonly checkpoint: SamplerCheckpoint,
    readonly target: Target,
  ) {}

  get resolution(): number {
    return this.checkpoint.res;
  }

  /** Style layer indices of a group (coarse, middle, fine) that the generator uses at this resolution. */
  groupLayers(group: StyleGroup): number[] {
    const active = styleLayersAtStage(this.spec, this.resolution);
    const { min, max } = STYLE_GROUPS[group];
    return this.spec.styleLayers.filter((s) => s.index < active && s.res >= min && s.res <= max).map((s) => s.index);
  }

  /** Generates the images [N, C, res, res] of `seeds`. */
  async generate(seeds: readonly number[], setting: SampleSetting): Promise<Tensor> {
    return this.run(latentsForSeeds(seeds, this.spec.zDim), undefined, undefined, setting, seeds);
  }

  /**
   * The style-mixing grid: row r, column c is row seed r's image with the style layers in `groups`
   * taken from column seed c's w. Cells use the rows' noise, so a cell differs from its row only in
   * styles. Returns the row sources, the column sources and the cells (row-major).
   */
  async mixGrid(
    rowSeeds: readonly number[],
    colSeeds: readonly number[],
    groups: readonly StyleGroup[],
    setting: SampleSetting,
  ): Promise<{ rows: Tensor; cols: Tensor; cells: Tensor }> {
    const zDim = this.spec.zDim;
    const rows = await this.generate(rowSeeds, setting);
    const cols = await this.generate(colSeeds, setting);
    const mix = tensor([this.spec.styleLayers.length]);
    for (const group of groups) for (const index of this.groupLayers(group)) mix.data[index] = 1;
    const cellRows = rowSeeds.flatMap((seed) => colSeeds.map(() => seed));
    const cellCols = rowSeeds.flatMap(() => [...colSeeds]);
    const cells = await this.run(latentsForSeeds(cellRows, zDim), latentsForSeeds(cellCols, zDim), mix, setting, cellRows);
    return { rows, cols, cells };
  }

  private async run(z1: Tensor, z2: Tensor | undefined, mix: Tensor | undefined, setting: SampleSetting, noiseOwners: readonly number[]): Promise<Tensor> {
    const batch = z1.shape[0]!;
    const noise = this.noiseFor(setting.noise, noiseOwners);
    const program = this.program(batch, noise === undefined ? 'none' : 'input');
    const layers = this.spec.styleLayers.length;
    const runtime: TensorMap = {
      z1,
      z2: z2 ?? z1,
      mix: mix ?? tensor([layers]),
      trunc: truncationVector(layers, setting.psi, setting.cutoff),
      w_avg: this.checkpoint.wAvg,
      alpha: scalarTensor(this.checkpoint.alpha),
      ...(noise ?? {}),
    };
    const result = await program.run(feedsFor(program.graph, runtime, this.checkpoint.ema));
    const image = result['image'];
    if (image === undefined) throw new Error(`internal error: generator program returned no 'image'`);
    return image;
  }

  private noiseFor(noise: NoiseSetting, seeds: readonly number[]): TensorMap | undefined {
    const layers = this.noiseLayers();
    if (noise.mode === 'none') return undefined;
    if (noise.mode === 'const') return noiseForSeeds(layers, seeds.map(() => noise.seed));
    return noiseForSeeds(layers, seeds.map((seed) => seed + noise.draw * NOISE_DRAW_STRIDE));
  }

  /** Returns the generator's noise inputs at the checkpoint's stage and their size H, in SamplingSession's order. */
  private noiseLayers(): { input: string; size: number }[] {
    const layers: { input: string; size: number }[] = [];
    for (const stage of this.spec.synthesis.stages) {
      if (stage.res > this.resolution) break;
      for (const layer of stage.layers) if (layer.kind === 'noise') layers.push({ input: layer.input, size: stage.res });
    }
    return layers;
  }

  private program(batch: number, noise: 'input' | 'none'): CompiledProgram {
    const key = `${batch}.${noise}`;
    let program = this.programs.get(key);
    if (program === undefined) {
      const graph = buildGenerator(this.spec, { stage: this.resolution, batch, fading: this.checkpoint.alpha < 1, noise });
      program = this.target.compile(graph, `${this.spec.name}.sample_r${this.resolution}_n${batch}_${noise}`);
      this.programs.set(key, program);
    }
    return program;
  }
}

/** Parses a seed list such as `0-7` or `3,5,9`; throws an Error with a message for the page. */
export function parseSeedList(text: string, limit = 64): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (match === null) throw new Error(`invalid seed '${part}': write seeds as 0-7 or 3,5,9`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new Error(`seed range '${part}' ends before it starts`);
    for (let seed = first; seed <= last; seed++) seeds.push(seed);
    if (seeds.length > limit) throw new Error(`too many seeds: at most ${limit} images at once`);
  }
  if (seeds.length === 0) throw new Error('no seeds given: write seeds as 0-7 or 3,5,9');
  return seeds;
}

/** Draws images [N, C, H, W] in [-1, 1] (C 1 or 3) into a grid canvas, `cols` per row, scaled by `scale`. */
export function imagesToCanvas(images: Tensor, cols: number, scale: number, padding = 2): HTMLCanvasElement {
  const [count, channels, height, width] = images.shape as [number, number, number, number];
  const rows = Math.ceil(count / cols);
  const canvas = document.createElement('canvas');
  canvas.width = cols * width + (cols + 1) * padding;
  canvas.height = rows * height + (rows + 1) * padding;
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(canvas.width, canvas.height);
  pixels.data.fill(128);
  const plane = width * height;
  // The byte mapping matches the CLI's PNG grids: [-1, 1] -> [0, 255], clamped, NaN as 0.
  const toByte = (value: number): number => (Number.isNaN(value) ? 0 : Math.round((Math.min(1, Math.max(-1, value)) + 1) * 127.5));
  for (let n = 0; n < count; n++) {
    const left = padding + (n % cols) * (width + padding);
    const top = padding + Math.floor(n / cols) * (height + padding);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const target = ((top + y) * canvas.width + left + x) * 4;
        for (let c = 0; c < 3; c++) {
          pixels.data[target + c] = toByte(images.data[(n * channels + Math.min(c, channels - 1)) * plane + y * width + x]!);
        }
        pixels.data[target + 3] = 255;
      }
    }
  }
  context.putImageData(pixels, 0, 0);
  canvas.style.width = `${canvas.width * scale}px`;
  canvas.style.imageRendering = 'pixelated';
  return canvas;
}
