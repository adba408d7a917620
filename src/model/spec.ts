// The checked model: what semantic analysis (src/check) produces from a .sgan file and what the
// layer lowering (src/layers), the parameter initialiser and the trainer consume. Every size here is
// resolved to a number; every parameter a layer uses is named in `params`.

/** The three networks of a StyleGAN. `generator` in the CLI means mapping followed by synthesis. */
export type NetworkName = 'mapping' | 'synthesis' | 'discriminator';

/** How a parameter is initialised before training. */
export type ParamInit =
  | { kind: 'normal'; std: number }
  | { kind: 'constant'; value: number };

/**
 * One trainable tensor. `runtimeScale` is the equalized-learning-rate factor applied when the
 * parameter is read (lrmul * gain / sqrt(fan_in) for weights, lrmul for biases, 1 otherwise).
 */
export interface ParamSpec {
  name: string;
  network: NetworkName;
  shape: number[];
  init: ParamInit;
  runtimeScale: number;
}

/**
 * One layer of a network, in execution order. Layers that own parameters name them; activations are
 * `[N, C]` in the mapping network and the discriminator head and `[N, C, H, W]` elsewhere.
 */
export type Layer =
  /** x / sqrt(mean(x^2 over channels) + eps). */
  | { kind: 'pixelnorm'; eps: number }
  /** Equalized-lr dense layer: `[N, in] -> [N, out]`; the bias, when present, is added after. */
  | { kind: 'dense'; name: string; in: number; out: number; weight: string; bias?: string }
  /** Equalized-lr k x k convolution, stride 1, 'same' zero padding: `[N, in, H, W] -> [N, out, H, W]`. */
  | { kind: 'conv'; name: string; in: number; out: number; kernel: number; weight: string; bias?: string }
  /** Per-channel bias on `[N, C]` or `[N, C, H, W]`, used where the bias follows other ops. */
  | { kind: 'bias'; name: string; channels: number; param: string }
  /** Leaky ReLU with a slope for x < 0, then multiplied by `gain`. */
  | { kind: 'lrelu'; slope: number; gain: number }
  /** x + strength[c] * noise, with fresh noise `[N, 1, H, W]` per call unless the input is given. */
  | { kind: 'noise'; name: string; channels: number; strength: string; input: string }
  /**
   * AdaIN: instance norm over H, W per sample and channel, then x * (s + 1) + b where [s, b] =
   * affine(w) for style layer `styleIndex`.
   */
  | {
      kind: 'adain';
      name: string;
      channels: number;
      styleIndex: number;
      eps: number;
      styleWeight: string;
      styleBias: string;
    }
  /** 2x upsampling of H and W. */
  | { kind: 'upsample'; mode: 'nearest' | 'bilinear' }
  /** Depthwise separable blur with the normalised outer product of `kernel` with itself. */
  | { kind: 'blur'; kernel: number[] }
  /** 2x2 average pooling. */
  | { kind: 'downsample' }
  /** Minibatch standard deviation: appends `features` channels of per-group stddev. */
  | { kind: 'mbstd'; group: number; features: number }
  /** `[N, C, H, W] -> [N, C * H * W]`. */
  | { kind: 'flatten' };

export interface SynthesisStage {
  res: number;
  channels: number;
  /** Layers that take the previous stage's features (or the constant at 4x4) to this stage's. */
  layers: Layer[];
  /** Layers from this stage's features to an image `[N, imageChannels, res, res]`. */
  torgb: Layer[];
  /** Indices of the style layers this stage uses, in order. */
  styleLayers: number[];
}

export interface SynthesisSpec {
  /** Learned constant input, `[channels, size, size]`. */
  constant: { param: string; channels: number; size: number };
  /** Stages in increasing resolution, starting at the constant's size. */
  stages: SynthesisStage[];
  fade: 'linear';
}

export interface DiscriminatorStage {
  res: number;
  /** Channels of this stage's input features (FromRGB output). */
  channels: number;
  /** Layers from an image `[N, imageChannels, res, res]` to this stage's input features. */
  fromrgb: Layer[];
  /** Layers from this stage's features to the next lower stage's features, or to `[N, 1]` at the last. */
  layers: Layer[];
}

export interface DiscriminatorSpec {
  /** Stages in decreasing resolution; the last one is the head and ends in one logit. */
  stages: DiscriminatorStage[];
}

export interface MappingSpec {
  layers: Layer[];
}

export interface StyleLayerSpec {
  index: number;
  /** Resolution of the synthesis stage that uses this style. */
  res: number;
  /** The AdaIN layer's name, for example `synthesis.b8.adain1`. */
  layer: string;
}

/** The training recipe. Lengths of training are in thousands of real images (kimg), as in NVlabs StyleGAN. */
export interface TrainRecipe {
  loss: 'nonsaturating';
  r1Gamma: number;
  adam: { beta1: number; beta2: number; eps: number };
  /** Learning rate: `base` unless `perRes` has an entry for the current resolution. */
  lr: { base: number; perRes: Record<number, number> };
  /** Minibatch size: `base` unless `perRes` has an entry for the current resolution. */
  batch: { base: number; perRes: Record<number, number> };
  grow: { startRes: number; stableKimg: number; fadeKimg: number };
  mixingProb: number;
  /** Generator EMA half-life in kimg; 0 disables the EMA. */
  emaKimg: number;
  wAvgDecay: number;
  truncation: { psi: number; cutoff: number };
  mirror: boolean;
}

export interface ModelSpec {
  name: string;
  /** Path of the .sgan file the model came from. */
  file: string;
  zDim: number;
  wDim: number;
  imageChannels: number;
  resolution: number;
  /** Feature channels per synthesis resolution, for example { 4: 512, 8: 512, ... }. */
  stageChannels: Record<number, number>;
  mapping: MappingSpec;
  synthesis: SynthesisSpec;
  discriminator: DiscriminatorSpec;
  train: TrainRecipe;
  /** The parameter table, in a stable order: mapping, synthesis, discriminator. */
  params: ParamSpec[];
  styleLayers: StyleLayerSpec[];
}
