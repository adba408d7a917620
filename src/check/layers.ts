// Turns expanded layer statements into ModelSpec layers, one network section at a time, while
// tracking the activation shape and adding each layer's parameters to the parameter table with
// equalized-learning-rate init and runtime scale.
import type { LayerOp, OptionName, Value } from '../frontend/ast.ts';
import { didYouMean, type Span } from '../frontend/diagnostics.ts';
import type { Layer, NetworkName, ParamSpec } from '../model/spec.ts';
import type { FlatLayer } from './expand.ts';
import { describeValue, readInRange, readInteger, type Reporter } from './report.ts';

/** Activation shape without the batch axis: `[C]` or `[C, res, res]`. */
export type Shape = { kind: 'vector'; channels: number } | { kind: 'image'; channels: number; res: number };

export function describeShape(shape: Shape): string {
  return shape.kind === 'vector' ? `[N, ${shape.channels}]` : `[N, ${shape.channels}, ${shape.res}, ${shape.res}]`;
}

export const DEFAULT_GAIN = Math.SQRT2;
export const DEFAULT_LRELU_SLOPE = 0.2;
export const DEFAULT_EPS = 1e-8;
export const DEFAULT_BLUR = [1, 2, 1];
export const DEFAULT_MBSTD_GROUP = 4;
export const DEFAULT_MBSTD_FEATURES = 1;

/** Weight of an equalized-lr layer: init N(0, 1/lrmul), read as w * lrmul * gain / sqrt(fanIn). */
export function weightParam(
  name: string,
  network: NetworkName,
  shape: number[],
  fanIn: number,
  lrmul: number,
  gain: number,
): ParamSpec {
  return { name, network, shape, init: { kind: 'normal', std: 1 / lrmul }, runtimeScale: (lrmul * gain) / Math.sqrt(fanIn) };
}

/** Bias initialised to zero and read as b * lrmul. */
export function biasParam(name: string, network: NetworkName, channels: number, lrmul: number): ParamSpec {
  return { name, network, shape: [channels], init: { kind: 'constant', value: 0 }, runtimeScale: lrmul };
}

const allowedOptions: Record<LayerOp, OptionName[]> = {
  pixelnorm: ['eps'],
  dense: ['lrmul', 'gain', 'nobias'],
  conv: ['out', 'lrmul', 'gain', 'nobias'],
  bias: [],
  lrelu: ['gain'],
  noise: [],
  adain: ['eps'],
  upsample: [],
  downsample: [],
  blur: [],
  mbstd: ['group', 'features'],
  flatten: [],
};

type ArgumentKind = 'none' | 'count' | 'kernel' | 'slope' | 'mode' | 'list';
const argumentKinds: Record<LayerOp, ArgumentKind> = {
  pixelnorm: 'none',
  dense: 'count',
  conv: 'kernel',
  bias: 'none',
  lrelu: 'slope',
  noise: 'none',
  adain: 'none',
  upsample: 'mode',
  downsample: 'none',
  blur: 'list',
  mbstd: 'none',
  flatten: 'none',
};

const upsampleModes = ['nearest', 'bilinear'] as const;

/** A layer whose bias was left out with `nobias` and is added later by a `bias` statement. */
interface BiasOwner {
  name: string;
  channels: number;
  lrmul: number;
}

export interface SectionOptions {
  network: NetworkName;
  /** Prefix of layer and parameter names, for example `synthesis.b8`. */
  prefix: string;
  /** Words for messages, for example `the discriminator`. */
  where: string;
  allowed: ReadonlySet<LayerOp>;
  wDim: number;
  /** Output channels of a conv without `out`; `last` is true for the section's last conv. */
  defaultConvOut: (last: boolean) => number;
  /** Allocates the next style layer index. */
  nextStyleIndex: () => number;
  /** The owner of a `bias` that follows no `nobias` layer, such as the learned constant. */
  fallbackBiasOwner?: BiasOwner;
  /** Name of the noise input for a noise layer, which the runtime may feed with fixed noise. */
  noiseInput: (index: number) => string;
}

/** Builds one section (the mapping network, or one stage of synthesis or discriminator). */
export class SectionBuilder {
  readonly layers: Layer[] = [];
  readonly params: ParamSpec[] = [];
  readonly styleLayers: { index: number; layer: string }[] = [];
  private readonly counters = new Map<string, number>();
  private readonly biasOwners: BiasOwner[] = [];
  private fallbackOwner: BiasOwner | undefined;
  private failed = false;

  constructor(
    private readonly options: SectionOptions,
    public shape: Shape,
    private readonly report: Reporter,
  ) {
    this.fallbackOwner = options.fallbackBiasOwner;
  }

  /**
   * Applies the layers in order and returns whether all of them were valid. A layer that is not
   * allowed, or has a bad option, is reported and checking goes on with the next layer. An error
   * that leaves the shape unknown stops the section.
   */
  applyAll(flat: FlatLayer[]): boolean {
    const lastConv = flat.map((layer) => layer.op).lastIndexOf('conv');
    for (let i = 0; i < flat.length; i++) {
      if (!this.apply(flat[i]!, i === lastConv)) {
        this.failed = true;
        break;
      }
    }
    return !this.failed;
  }

  private apply(layer: FlatLayer, lastConv: boolean): boolean {
    const fail = (code: string, message: string, hint?: string): false => {
      this.report.errorInLayer(layer.site, layer.origin, code, message, hint);
      return false;
    };
    if (!this.options.allowed.has(layer.op)) {
      const allowed = [...this.options.allowed].join(', ');
      fail('E045', `'${layer.op}' is not allowed in ${this.options.where}`, `allowed layers there: ${allowed}`);
      this.failed = true;
      return true;
    }
    // Options that are unknown or repeated are reported, and the layer is built from the rest.
    if (!this.checkOptions(layer)) this.failed = true;
    if (!this.checkArgument(layer)) return false;

    switch (layer.op) {
      case 'pixelnorm':
        this.layers.push({ kind: 'pixelnorm', eps: this.realOption(layer, 'eps', DEFAULT_EPS, { min: 0, minOpen: true }) });
        return true;
      case 'dense':
        return this.applyDense(layer, fail);
      case 'conv':
        return this.applyConv(layer, lastConv, fail);
      case 'bias':
        return this.applyBias(fail);
      case 'lrelu': {
        const slopeValue = layer.arg as Value | undefined;
        const slope =
          slopeValue === undefined ? DEFAULT_LRELU_SLOPE : readInRange(this.report, slopeValue, 'the leaky ReLU slope', { min: 0 });
        const gain = this.realOption(layer, 'gain', 1, { min: 0, minOpen: true });
        if (slope === undefined) return false;
        this.layers.push({ kind: 'lrelu', slope, gain });
        return true;
      }
      case 'noise':
      case 'adain':
        return this.applyStyleLayer(layer, fail);
      case 'upsample': {
        if (this.shape.kind !== 'image') {
          return fail(
            'E048',
            `'upsample' needs an image input but the input is ${describeShape(this.shape)}`,
          );
        }
        let mode: (typeof upsampleModes)[number] = 'nearest';
        if (layer.arg !== undefined) {
          const word = layer.arg as Value;
          const known = upsampleModes.find((m) => word.kind === 'name' && word.name === m);
          if (known === undefined) {
            const hint = word.kind === 'name' ? didYouMean(word.name, upsampleModes) : undefined;
            this.report.error(
              word.span,
              'E051',
              `unknown upsample mode ${describeWord(word)}; expected nearest or bilinear`,
              hint,
            );
            return false;
          }
          mode = known;
        }
        this.layers.push({ kind: 'upsample', mode });
        this.shape = { ...this.shape, res: this.shape.res * 2 };
        return true;
      }
      case 'downsample':
        if (this.shape.kind !== 'image' || this.shape.res < 2) {
          return fail(
            'E048',
            `'downsample' needs an image of at least 2x2 but the input is ${describeShape(this.shape)}`,
          );
        }
        this.layers.push({ kind: 'downsample' });
        this.shape = { ...this.shape, res: this.shape.res / 2 };
        return true;
      case 'blur': {
        if (this.shape.kind !== 'image') {
          return fail(
            'E048',
            `'blur' needs an image input but the input is ${describeShape(this.shape)}`,
          );
        }
        const values = layer.arg === undefined ? undefined : (layer.arg as Value[]);
        let kernel = DEFAULT_BLUR;
        if (values !== undefined) {
          const read = values.map((v) => readInRange(this.report, v, 'a blur filter tap', { min: 0, minOpen: true }));
          if (read.some((v) => v === undefined)) return false;
          if (read.length === 0) {
            return fail(
              'E056',
              "'blur' needs at least one filter tap",
              'write for example blur [1, 2, 1]',
            );
          }
          kernel = read as number[];
        }
        this.layers.push({ kind: 'blur', kernel });
        return true;
      }
      case 'mbstd': {
        if (this.shape.kind !== 'image') {
          return fail(
            'E048',
            `'mbstd' needs an image input but the input is ${describeShape(this.shape)}`,
          );
        }
        const group = this.intOption(layer, 'group', DEFAULT_MBSTD_GROUP);
        const features = this.intOption(layer, 'features', DEFAULT_MBSTD_FEATURES);
        if (group === undefined || features === undefined) return false;
        if (this.shape.channels % features !== 0) {
          return fail(
            'E058',
            `mbstd features ${features} must divide the ${this.shape.channels} input channels`,
            'each feature averages the stddev over an equal share of the channels',
          );
        }
        this.layers.push({ kind: 'mbstd', group, features });
        this.shape = { ...this.shape, channels: this.shape.channels + features };
        return true;
      }
      case 'flatten': {
        if (this.shape.kind !== 'image') {
          return fail(
            'E048',
            `'flatten' needs an image input but the input is ${describeShape(this.shape)}`,
          );
        }
        this.layers.push({ kind: 'flatten' });
        this.shape = { kind: 'vector', channels: this.shape.channels * this.shape.res * this.shape.res };
        return true;
      }
    }
  }

  private applyDense(layer: FlatLayer, fail: (code: string, message: string, hint?: string) => false): boolean {
    if (this.shape.kind !== 'vector') {
      return fail(
        'E048',
        `'dense' needs a flat input [N, C] but the input is ${describeShape(this.shape)}`,
        "add 'flatten' before it",
      );
    }
    const out = readInteger(this.report, layer.arg as Value, 'the dense output size');
    const lrmul = this.realOption(layer, 'lrmul', 1, { min: 0, minOpen: true });
    const gain = this.realOption(layer, 'gain', DEFAULT_GAIN, { min: 0, minOpen: true });
    if (out === undefined) return false;
    const name = this.nextName('dense');
    const input = this.shape.channels;
    this.params.push(weightParam(`${name}.weight`, this.options.network, [out, input], input, lrmul, gain));
    const dense: Layer = { kind: 'dense', name, in: input, out, weight: `${name}.weight` };
    this.attachBias(layer, dense, name, out, lrmul);
    this.layers.push(dense);
    this.shape = { kind: 'vector', channels: out };
    return true;
  }

  private applyConv(layer: FlatLayer, lastConv: boolean, fail: (code: string, message: string, hint?: string) => false): boolean {
    if (this.shape.kind !== 'image') {
      return fail('E048', `'conv' needs an image input [N, C, H, W] but the input is ${describeShape(this.shape)}`);
    }
    const kernelValue = layer.arg as Value;
    const kernel = kernelValue.kind === 'dims' ? kernelValue.dims : [];
    if (kernel.length !== 2 || kernel[0] !== kernel[1] || kernel[0]! % 2 === 0 || kernel[0]! < 1) {
      this.report.error(
        kernelValue.span,
        'E025',
        `a conv kernel must be square with an odd size such as 3x3, found ${describeValue(kernelValue)}`,
      );
      return false;
    }
    const k = kernel[0]!;

    const outValue = layer.options.find((o) => o.name === 'out')?.value;
    const out =
      outValue === undefined ? this.options.defaultConvOut(lastConv) : readInteger(this.report, outValue, 'the conv output channels');
    const lrmul = this.realOption(layer, 'lrmul', 1, { min: 0, minOpen: true });
    const gain = this.realOption(layer, 'gain', DEFAULT_GAIN, { min: 0, minOpen: true });
    if (out === undefined) return false;

    const name = this.nextName('conv');
    const input = this.shape.channels;
    this.params.push(weightParam(`${name}.weight`, this.options.network, [out, input, k, k], input * k * k, lrmul, gain));
    const conv: Layer = { kind: 'conv', name, in: input, out, kernel: k, weight: `${name}.weight` };
    this.attachBias(layer, conv, name, out, lrmul);
    this.layers.push(conv);
    this.shape = { ...this.shape, channels: out };
    return true;
  }

  /** Adds the fused bias, or remembers the layer as the owner of a later `bias` under `nobias`. */
  private attachBias(layer: FlatLayer, target: { bias?: string }, name: string, channels: number, lrmul: number): void {
    if (layer.options.some((o) => o.name === 'nobias')) {
      this.biasOwners.push({ name, channels, lrmul });
      return;
    }
    this.params.push(biasParam(`${name}.bias`, this.options.network, channels, lrmul));
    target.bias = `${name}.bias`;
  }

  private applyBias(fail: (code: string, message: string, hint?: string) => false): boolean {
    const owner = this.biasOwners.shift() ?? this.fallbackOwner;
    this.fallbackOwner = undefined;
    if (owner === undefined) {
      return fail(
        'E047',
        "'bias' has no layer to belong to",
        "a bias follows a 'conv' or 'dense' declared with 'nobias'",
      );
    }
    if (owner.channels !== this.shape.channels) {
      return fail(
        'E044',
        `the bias of '${owner.name}' has ${owner.channels} channels but the input has ${this.shape.channels}`,
      );
    }
    const param = `${owner.name}.bias`;
    this.params.push(biasParam(param, this.options.network, owner.channels, owner.lrmul));
    this.layers.push({ kind: 'bias', name: param, channels: owner.channels, param });
    return true;
  }

  private applyStyleLayer(layer: FlatLayer, fail: (code: string, message: string, hint?: string) => false): boolean {
    if (this.shape.kind !== 'image') {
      return fail('E048', `'${layer.op}' needs an image input but the input is ${describeShape(this.shape)}`);
    }
    const channels = this.shape.channels;
    const network = this.options.network;

    if (layer.op === 'noise') {
      const index = this.counters.get('noise') ?? 0;
      const name = this.nextName('noise');
      const strength = `${name}.strength`;
      this.params.push({ name: strength, network, shape: [channels], init: { kind: 'constant', value: 0 }, runtimeScale: 1 });
      this.layers.push({ kind: 'noise', name, channels, strength, input: this.options.noiseInput(index) });
      return true;
    }

    // AdaIN: the style affine maps w to a scale and a bias per channel.
    const name = this.nextName('adain');
    const eps = this.realOption(layer, 'eps', DEFAULT_EPS, { min: 0, minOpen: true });
    const styleIndex = this.options.nextStyleIndex();
    const wDim = this.options.wDim;
    this.params.push(weightParam(`${name}.style.weight`, network, [2 * channels, wDim], wDim, 1, 1));
    this.params.push(biasParam(`${name}.style.bias`, network, 2 * channels, 1));

    this.layers.push({
      kind: 'adain',
      name,
      channels,
      styleIndex,
      eps,
      styleWeight: `${name}.style.weight`,
      styleBias: `${name}.style.bias`,
    });
    this.styleLayers.push({ index: styleIndex, layer: name });
    return true;
  }

  private checkOptions(layer: FlatLayer): boolean {
    const allowed = allowedOptions[layer.op];
    const seen = new Set<string>();
    let ok = true;
    for (const option of layer.options) {
      if (!allowed.includes(option.name)) {
        const hint = allowed.length === 0 ? `'${layer.op}' takes no options` : `options of '${layer.op}': ${allowed.join(', ')}`;
        this.report.errorInLayer(option.span, undefined, 'E046', `'${layer.op}' has no option '${option.name}'`, hint);
        ok = false;
      } else if (seen.has(option.name)) {
        this.report.errorInLayer(option.span, undefined, 'E055', `option '${option.name}' is given twice`);
        ok = false;
      }
      seen.add(option.name);
    }
    return ok;
  }

  private checkArgument(layer: FlatLayer): boolean {
    const kind = argumentKinds[layer.op];
    const arg = layer.arg;
    const span: Span = arg === undefined ? layer.site : Array.isArray(arg) ? (arg[0]?.span ?? layer.site) : arg.span;
    const fail = (message: string, hint?: string): false => {
      this.report.errorInLayer(span, arg === undefined ? layer.origin : undefined, 'E056', message, hint);
      return false;
    };
    if (arg === undefined) {
      if (kind === 'count') return fail(`'${layer.op}' needs an output size`, `write for example '${layer.op} 512'`);
      if (kind === 'kernel') return fail(`'${layer.op}' needs a kernel size`, "write for example 'conv 3x3'");
      return true;
    }
    if (kind === 'none') return fail(`'${layer.op}' takes no argument`);
    if (Array.isArray(arg) !== (kind === 'list')) {
      const expected = kind === 'list' ? 'a list such as [1, 2, 1]' : 'a single value, not a list';
      return fail(`'${layer.op}' takes ${expected}`);
    }
    return true;
  }

  private realOption(layer: FlatLayer, name: OptionName, fallback: number, range: { min?: number; minOpen?: boolean }): number {
    const value = layer.options.find((o) => o.name === name)?.value;
    if (value === undefined) return fallback;
    return readInRange(this.report, value, `option '${name}'`, range) ?? fallback;
  }

  private intOption(layer: FlatLayer, name: OptionName, fallback: number): number | undefined {
    const value = layer.options.find((o) => o.name === name)?.value;
    if (value === undefined) return fallback;
    return readInteger(this.report, value, `option '${name}'`);
  }

  private nextName(kind: string): string {
    const index = this.counters.get(kind) ?? 0;
    this.counters.set(kind, index + 1);
    return `${this.options.prefix}.${kind}${index}`;
  }
}

function describeWord(value: Value): string {
  return value.kind === 'name' ? `'${value.name}'` : describeValue(value);
}
