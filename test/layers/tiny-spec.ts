// Hand-built ModelSpec objects for the layer tests, following the layer order and naming of the
// .sgan checker: epilogue noise -> bias -> lrelu -> AdaIN, two style layers per synthesis stage.

import type { Layer, ModelSpec, NetworkName, ParamSpec } from '../../src/model/spec.ts';

export interface TinyOptions {
  zDim?: number;
  wDim?: number;
  imageChannels?: number;
  /** Channels per resolution; the keys are the stages. */
  channels?: Record<number, number>;
  mappingLayers?: number;
  lrmul?: number;
  headSize?: number;
  mbstdGroup?: number;
  upsample?: 'nearest' | 'bilinear';
}

export function tinySpec(options: TinyOptions = {}): ModelSpec {
  const zDim = options.zDim ?? 8;
  const wDim = options.wDim ?? 8;
  const imageChannels = options.imageChannels ?? 1;
  const channels = options.channels ?? { 4: 4, 8: 4 };
  const lrmul = options.lrmul ?? 0.01;
  const resolutions = Object.keys(channels).map(Number).sort((a, b) => a - b);
  const resolution = resolutions[resolutions.length - 1]!;
  const params: ParamSpec[] = [];
  const sqrt2 = Math.SQRT2;

  const weight = (network: NetworkName, name: string, shape: number[], gain: number, mul = 1): string => {
    const fanIn = shape.slice(1).reduce((p, d) => p * d, 1);
    params.push({ name, network, shape, init: { kind: 'normal', std: 1 / mul }, runtimeScale: (mul * gain) / Math.sqrt(fanIn) });
    return name;
  };
  const constant = (network: NetworkName, name: string, shape: number[], value: number, scale = 1): string => {
    params.push({ name, network, shape, init: { kind: 'constant', value }, runtimeScale: scale });
    return name;
  };

  const mappingLayers: Layer[] = [{ kind: 'pixelnorm', eps: 1e-8 }];
  for (let i = 0; i < (options.mappingLayers ?? 2); i++) {
    const inDim = i === 0 ? zDim : wDim;
    const name = `mapping.dense${i}`;
    mappingLayers.push({
      kind: 'dense',
      name,
      in: inDim,
      out: wDim,
      weight: weight('mapping', `${name}.weight`, [wDim, inDim], sqrt2, lrmul),
      bias: constant('mapping', `${name}.bias`, [wDim], 0, lrmul),
    });
    mappingLayers.push({ kind: 'lrelu', slope: 0.2, gain: 1 });
  }

  let styleIndex = 0;
  const styleLayers: ModelSpec['styleLayers'] = [];
  const epilogue = (prefix: string, j: number, c: number, res: number, biasName: string): Layer[] => {
    const adainName = `${prefix}.adain${j}`;
    const index = styleIndex++;
    styleLayers.push({ index, res, layer: adainName });
    return [
      {
        kind: 'noise',
        name: `${prefix}.noise${j}`,
        channels: c,
        strength: constant('synthesis', `${prefix}.noise${j}.strength`, [c], 0),
        input: `noise.${prefix}.noise${j}`,
      },
      { kind: 'bias', name: biasName, channels: c, param: constant('synthesis', `${biasName}.bias`, [c], 0) },
      { kind: 'lrelu', slope: 0.2, gain: 1 },
      {
        kind: 'adain',
        name: adainName,
        channels: c,
        styleIndex: index,
        eps: 1e-8,
        styleWeight: weight('synthesis', `${adainName}.style.weight`, [2 * c, wDim], 1),
        styleBias: constant('synthesis', `${adainName}.style.bias`, [2 * c], 0),
      },
    ];
  };
  const conv = (network: NetworkName, name: string, cin: number, cout: number, k: number, gain: number, bias: boolean): Layer => ({
    kind: 'conv',
    name,
    in: cin,
    out: cout,
    kernel: k,
    weight: weight(network, `${name}.weight`, [cout, cin, k, k], gain),
    ...(bias ? { bias: constant(network, `${name}.bias`, [cout], 0) } : {}),
  });

  const c4 = channels[4]!;
  const constParam = constant('synthesis', 'synthesis.const', [c4, 4, 4], 1);
  const synthesisStages = resolutions.map((res, s) => {
    const c = channels[res]!;
    const prefix = `synthesis.b${res}`;
    const first = styleIndex;
    const layers: Layer[] =
      s === 0
        ? [
            ...epilogue(prefix, 0, c, res, `${prefix}.const`),
            conv('synthesis', `${prefix}.conv0`, c, c, 3, sqrt2, false),
            ...epilogue(prefix, 1, c, res, `${prefix}.conv0`),
          ]
        : [
            { kind: 'upsample', mode: options.upsample ?? 'nearest' },
            conv('synthesis', `${prefix}.conv0`, channels[resolutions[s - 1]!]!, c, 3, sqrt2, false),
            { kind: 'blur', kernel: [1, 2, 1] },
            ...epilogue(prefix, 0, c, res, `${prefix}.conv0`),
            conv('synthesis', `${prefix}.conv1`, c, c, 3, sqrt2, false),
            ...epilogue(prefix, 1, c, res, `${prefix}.conv1`),
          ];
    const torgb: Layer[] = [conv('synthesis', `${prefix}.torgb`, c, imageChannels, 1, 1, true)];
    return { res, channels: c, layers, torgb, styleLayers: [first, first + 1] };
  });

  const headSize = options.headSize ?? 8;
  const features = 1;
  const discriminatorStages = [...resolutions].reverse().map((res, s, all) => {
    const c = channels[res]!;
    const prefix = `discriminator.b${res}`;
    const fromrgb: Layer[] = [
      conv('discriminator', `${prefix}.fromrgb`, imageChannels, c, 1, sqrt2, true),
      { kind: 'lrelu', slope: 0.2, gain: 1 },
    ];
    if (s < all.length - 1) {
      const lower = channels[all[s + 1]!]!;
      const layers: Layer[] = [
        conv('discriminator', `${prefix}.conv0`, c, c, 3, sqrt2, true),
        { kind: 'lrelu', slope: 0.2, gain: 1 },
        { kind: 'blur', kernel: [1, 2, 1] },
        conv('discriminator', `${prefix}.conv1`, c, lower, 3, sqrt2, false),
        { kind: 'downsample' },
        { kind: 'bias', name: `${prefix}.conv1`, channels: lower, param: constant('discriminator', `${prefix}.conv1.bias`, [lower], 0) },
        { kind: 'lrelu', slope: 0.2, gain: 1 },
      ];
      return { res, channels: c, fromrgb, layers };
    }
    const layers: Layer[] = [
      { kind: 'mbstd', group: options.mbstdGroup ?? 4, features },
      conv('discriminator', `${prefix}.conv0`, c + features, c, 3, sqrt2, true),
      { kind: 'lrelu', slope: 0.2, gain: 1 },
      { kind: 'flatten' },
      {
        kind: 'dense',
        name: `${prefix}.dense0`,
        in: c * 16,
        out: headSize,
        weight: weight('discriminator', `${prefix}.dense0.weight`, [headSize, c * 16], sqrt2),
        bias: constant('discriminator', `${prefix}.dense0.bias`, [headSize], 0),
      },
      { kind: 'lrelu', slope: 0.2, gain: 1 },
      {
        kind: 'dense',
        name: `${prefix}.dense1`,
        in: headSize,
        out: 1,
        weight: weight('discriminator', `${prefix}.dense1.weight`, [1, headSize], 1),
        bias: constant('discriminator', `${prefix}.dense1.bias`, [1], 0),
      },
    ];
    return { res, channels: c, fromrgb, layers };
  });

  const order: NetworkName[] = ['mapping', 'synthesis', 'discriminator'];
  params.sort((a, b) => order.indexOf(a.network) - order.indexOf(b.network));

  return {
    name: 'tiny',
    file: 'tiny.sgan',
    zDim,
    wDim,
    imageChannels,
    resolution,
    stageChannels: { ...channels },
    mapping: { layers: mappingLayers },
    synthesis: { constant: { param: constParam, channels: c4, size: 4 }, stages: synthesisStages, fade: 'linear' },
    discriminator: { stages: discriminatorStages },
    train: {
      loss: 'nonsaturating',
      r1Gamma: 10,
      adam: { beta1: 0, beta2: 0.99, eps: 1e-8 },
      lr: { base: 0.001, perRes: {} },
      batch: { base: 4, perRes: {} },
      grow: { startRes: resolutions[0]!, stableKimg: 1, fadeKimg: 1 },
      mixingProb: 0.9,
      emaKimg: 1,
      wAvgDecay: 0.995,
      truncation: { psi: 0.7, cutoff: 8 },
      mirror: false,
    },
    params,
    styleLayers,
  };
}
