// Semantic analysis of the example models: parameter counts from the StyleGAN layer formulas, layer
// order, equalized-learning-rate scales, the style-layer map and the training recipe.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkFile, checkSource } from '../src/check/index.ts';
import type { Layer, ModelSpec, ParamSpec } from '../src/model/spec.ts';

function load(path: string): ModelSpec {
  const result = checkFile(path);
  expect(result.diagnostics).toEqual([]);
  expect(result.spec).toBeDefined();
  return result.spec!;
}

function count(spec: ModelSpec, network: ParamSpec['network']): number {
  return spec.params.filter((p) => p.network === network).reduce((sum, p) => sum + p.shape.reduce((a, b) => a * b, 1), 0);
}

function param(spec: ModelSpec, name: string): ParamSpec {
  const found = spec.params.find((p) => p.name === name);
  if (found === undefined) throw new Error(`no parameter ${name}`);
  return found;
}

/** Mapping parameters: `layers` dense layers with bias, the first from z, the rest from w. */
function mappingCount(z: number, w: number, layers: number): number {
  return z * w + w + (layers - 1) * (w * w + w);
}

/**
 * Synthesis parameters from the StyleGAN generator structure: the constant, then per stage two
 * convs (one at 4x4) with bias, two noise strengths, two style affines [2C, w] + [2C], and a ToRGB.
 */
function synthesisCount(channels: number[], w: number, imageChannels: number): number {
  const style = (c: number): number => 2 * c * w + 2 * c;
  let total = channels[0]! * 16;
  channels.forEach((c, i) => {
    const convs = i === 0 ? c * c * 9 + c + c : channels[i - 1]! * c * 9 + c + c * c * 9 + c;
    total += convs + 2 * c + 2 * style(c) + imageChannels * c + imageChannels;
  });
  return total;
}

/** Discriminator parameters: FromRGB per stage, two convs per block, the head's conv and two dense layers. */
function discriminatorCount(channels: number[], imageChannels: number, headSize: number, features: number): number {
  let total = 0;
  channels.forEach((c, i) => {
    total += imageChannels * c + c;
    if (i > 0) {
      const next = channels[i - 1]!;
      total += c * c * 9 + c + c * next * 9 + next;
    }
  });
  const c4 = channels[0]!;
  total += (c4 + features) * c4 * 9 + c4;
  total += c4 * 16 * headSize + headSize + headSize + 1;
  return total;
}

const ffhqChannels = [512, 512, 512, 512, 256, 128, 64, 32, 16];

describe('stylegan-ffhq-1024 example', () => {
  const spec = load('examples/stylegan-ffhq-1024.sgan');

  it('generator has 26.2M parameters', () => {
    const generator = count(spec, 'mapping') + count(spec, 'synthesis');
    expect(count(spec, 'mapping')).toBe(mappingCount(512, 512, 8));
    expect(count(spec, 'synthesis')).toBe(synthesisCount(ffhqChannels, 512, 3));
    expect(generator).toBeGreaterThanOrEqual(26_200_000);
    expect(generator).toBeLessThan(26_300_000);
  });

  it('discriminator has about 23.1M parameters', () => {
    const discriminator = count(spec, 'discriminator');
    expect(discriminator).toBe(discriminatorCount(ffhqChannels, 3, 512, 1));
    expect(Math.abs(discriminator - 23_100_000)).toBeLessThan(50_000);
  });

  it('has 18 style layers, two per stage', () => {
    expect(spec.styleLayers.map((s) => s.index)).toEqual([...Array(18).keys()]);
    const resolutions = [4, 8, 16, 32, 64, 128, 256, 512, 1024];
    expect(spec.styleLayers.map((s) => s.res)).toEqual(resolutions.flatMap((r) => [r, r]));
    expect(spec.styleLayers[3]).toEqual({ index: 3, res: 8, layer: 'synthesis.b8.adain1' });
    expect(spec.synthesis.stages.map((s) => s.styleLayers)).toEqual(resolutions.map((_, i) => [2 * i, 2 * i + 1]));
  });

  it('orders stages by resolution', () => {
    expect(spec.synthesis.stages.map((s) => s.res)).toEqual([4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    expect(spec.discriminator.stages.map((s) => s.res)).toEqual([1024, 512, 256, 128, 64, 32, 16, 8, 4]);
    expect(spec.stageChannels).toEqual({ 4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16 });
  });

  it('uses equalized learning rate scales', () => {
    const mapping = param(spec, 'mapping.dense0.weight');
    expect(mapping.shape).toEqual([512, 512]);
    expect(mapping.init).toEqual({ kind: 'normal', std: 100 });
    expect(mapping.runtimeScale).toBeCloseTo((0.01 * Math.SQRT2) / Math.sqrt(512), 12);
    expect(param(spec, 'mapping.dense7.bias').runtimeScale).toBeCloseTo(0.01, 12);

    const conv = param(spec, 'synthesis.b64.conv0.weight');
    expect(conv.shape).toEqual([256, 512, 3, 3]);
    expect(conv.init).toEqual({ kind: 'normal', std: 1 });
    expect(conv.runtimeScale).toBeCloseTo(Math.SQRT2 / Math.sqrt(512 * 9), 12);

    const torgb = param(spec, 'synthesis.b1024.torgb.weight');
    expect(torgb.shape).toEqual([3, 16, 1, 1]);
    expect(torgb.runtimeScale).toBeCloseTo(1 / 4, 12);

    const style = param(spec, 'synthesis.b8.adain0.style.weight');
    expect(style.shape).toEqual([1024, 512]);
    expect(style.runtimeScale).toBeCloseTo(1 / Math.sqrt(512), 12);
    expect(param(spec, 'synthesis.b8.adain0.style.bias')).toMatchObject({ shape: [1024], init: { kind: 'constant', value: 0 }, runtimeScale: 1 });

    expect(param(spec, 'synthesis.const')).toMatchObject({ shape: [512, 4, 4], init: { kind: 'constant', value: 1 }, runtimeScale: 1 });
    expect(param(spec, 'synthesis.b4.const.bias')).toMatchObject({ shape: [512], init: { kind: 'constant', value: 0 }, runtimeScale: 1 });
    expect(param(spec, 'synthesis.b16.noise1.strength')).toMatchObject({ shape: [512], init: { kind: 'constant', value: 0 }, runtimeScale: 1 });

    expect(param(spec, 'discriminator.b4.dense0.weight').runtimeScale).toBeCloseTo(Math.SQRT2 / Math.sqrt(512 * 16), 12);
    expect(param(spec, 'discriminator.b4.dense1.weight').runtimeScale).toBeCloseTo(1 / Math.sqrt(512), 12);
    expect(param(spec, 'discriminator.b4.conv0.weight').shape).toEqual([512, 513, 3, 3]);
    expect(param(spec, 'discriminator.b1024.fromrgb.weight').runtimeScale).toBeCloseTo(Math.SQRT2 / Math.sqrt(3), 12);
  });

  it('lists parameters by network, with unique names', () => {
    const networks = spec.params.map((p) => p.network);
    const firstSynthesis = networks.indexOf('synthesis');
    const firstDiscriminator = networks.indexOf('discriminator');
    expect(networks.lastIndexOf('mapping')).toBeLessThan(firstSynthesis);
    expect(networks.lastIndexOf('synthesis')).toBeLessThan(firstDiscriminator);
    expect(new Set(spec.params.map((p) => p.name)).size).toBe(spec.params.length);
  });

  it('reads the paper recipe', () => {
    expect(spec.train).toEqual({
      loss: 'nonsaturating',
      r1Gamma: 10,
      adam: { beta1: 0, beta2: 0.99, eps: 1e-8 },
      lr: { base: 0.001, perRes: { 128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003 } },
      batch: { base: 4, perRes: { 4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4, 1024: 4 } },
      grow: { startRes: 8, stableKimg: 600, fadeKimg: 600 },
      mixingProb: 0.9,
      emaKimg: 10,
      wAvgDecay: 0.995,
      truncation: { psi: 0.7, cutoff: 8 },
      mirror: true,
    });
  });
});

describe('layer order', () => {
  const spec = load('examples/fashion-32.sgan');
  const kinds = (layers: Layer[]): string[] => layers.map((l) => l.kind);

  it('mapping is pixelnorm then dense and lrelu', () => {
    expect(kinds(spec.mapping.layers)).toEqual(['pixelnorm', ...Array(4).fill(['dense', 'lrelu']).flat()]);
    const dense = spec.mapping.layers[1]!;
    expect(dense).toEqual({ kind: 'dense', name: 'mapping.dense0', in: 64, out: 64, weight: 'mapping.dense0.weight', bias: 'mapping.dense0.bias' });
    expect(spec.mapping.layers[2]).toEqual({ kind: 'lrelu', slope: 0.2, gain: 1 });
    expect(spec.mapping.layers[0]).toEqual({ kind: 'pixelnorm', eps: 1e-8 });
  });

  it('synthesis stage 4 follows the constant', () => {
    const stage = spec.synthesis.stages[0]!;
    expect(kinds(stage.layers)).toEqual(['noise', 'bias', 'lrelu', 'adain', 'conv', 'noise', 'bias', 'lrelu', 'adain']);
    const conv = stage.layers[4]!;
    expect(conv).toEqual({ kind: 'conv', name: 'synthesis.b4.conv0', in: 32, out: 32, kernel: 3, weight: 'synthesis.b4.conv0.weight' });
    expect(stage.layers[1]).toEqual({ kind: 'bias', name: 'synthesis.b4.const.bias', channels: 32, param: 'synthesis.b4.const.bias' });
    expect(stage.layers[0]).toMatchObject({ kind: 'noise', name: 'synthesis.b4.noise0', channels: 32, strength: 'synthesis.b4.noise0.strength' });
  });

  it('synthesis stage 16 upsamples, convolves and blurs', () => {
    const stage = spec.synthesis.stages[2]!;
    expect(stage.res).toBe(16);
    expect(kinds(stage.layers)).toEqual(['upsample', 'conv', 'blur', 'noise', 'bias', 'lrelu', 'adain', 'conv', 'noise', 'bias', 'lrelu', 'adain']);
    expect(stage.layers[0]).toEqual({ kind: 'upsample', mode: 'nearest' });
    expect(stage.layers[1]).toMatchObject({ in: 32, out: 32 });
    expect(stage.layers[2]).toEqual({ kind: 'blur', kernel: [1, 2, 1] });
    expect(stage.layers[6]).toMatchObject({ kind: 'adain', channels: 32, styleIndex: 4, eps: 1e-8 });
    expect(stage.torgb).toEqual([
      { kind: 'conv', name: 'synthesis.b16.torgb', in: 32, out: 1, kernel: 1, weight: 'synthesis.b16.torgb.weight', bias: 'synthesis.b16.torgb.bias' },
    ]);
  });

  it('discriminator block ends with the next channels', () => {
    const stage = spec.discriminator.stages[0]!;
    expect(stage.res).toBe(32);
    expect(stage.channels).toBe(32);
    expect(kinds(stage.fromrgb)).toEqual(['conv', 'lrelu']);
    expect(kinds(stage.layers)).toEqual(['conv', 'lrelu', 'blur', 'conv', 'downsample', 'bias', 'lrelu']);
    expect(stage.layers[0]).toMatchObject({ in: 32, out: 32, bias: 'discriminator.b32.conv0.bias' });
    expect(stage.layers[3]).toMatchObject({ in: 32, out: 32 });
    expect(stage.layers[3]).not.toHaveProperty('bias');
    expect(stage.layers[5]).toEqual({ kind: 'bias', name: 'discriminator.b32.conv1.bias', channels: 32, param: 'discriminator.b32.conv1.bias' });
  });

  it('discriminator head ends in one logit', () => {
    const head = spec.discriminator.stages[3]!;
    expect(head.res).toBe(4);
    expect(kinds(head.layers)).toEqual(['mbstd', 'conv', 'lrelu', 'flatten', 'dense', 'lrelu', 'dense']);
    expect(head.layers[0]).toEqual({ kind: 'mbstd', group: 4, features: 1 });
    expect(head.layers[1]).toMatchObject({ in: 33, out: 32 });
    expect(head.layers[4]).toMatchObject({ in: 32 * 16, out: 64 });
    expect(head.layers[6]).toMatchObject({ in: 64, out: 1, bias: 'discriminator.b4.dense1.bias' });
  });

  it('fashion-32 counts match the formulas', () => {
    expect(count(spec, 'mapping')).toBe(mappingCount(64, 64, 4));
    expect(count(spec, 'synthesis')).toBe(synthesisCount([32, 32, 32, 32], 64, 1));
    expect(count(spec, 'discriminator')).toBe(discriminatorCount([32, 32, 32, 32], 1, 64, 1));
    expect(spec.styleLayers).toHaveLength(8);
  });

  it('fashion-32 recipe', () => {
    expect(spec.train).toMatchObject({
      r1Gamma: 1,
      lr: { base: 0.002, perRes: { 32: 0.001 } },
      batch: { base: 16, perRes: { 8: 16, 16: 16, 32: 16 } },
      grow: { startRes: 8, stableKimg: 16, fadeKimg: 8 },
      emaKimg: 1,
      mirror: false,
    });
  });
});

const tinyModel = (train: string, extraBlocks = ''): string => `import std.stylegan
${extraBlocks}
model tiny {
  latent z 8
  style w 8
  image 1 x 8 x 8
  channels { 4: 8, 8: 8 }
  mapping { pixelnorm; dense 8; lrelu }
  synthesis { stage 4 { gconst() } stage 8 { gblock() } torgb each stage }
  discriminator { fromrgb each stage; stage 8 { dblock() } stage 4 { dhead(8) } }
  ${train}
}
`;

describe('checkSource', () => {
  it('fills recipe defaults from the paper', () => {
    const result = checkSource(tinyModel(''), 'tiny.sgan');
    expect(result.diagnostics).toEqual([]);
    expect(result.spec!.train).toEqual({
      loss: 'nonsaturating',
      r1Gamma: 10,
      adam: { beta1: 0, beta2: 0.99, eps: 1e-8 },
      lr: { base: 0.001, perRes: {} },
      batch: { base: 32, perRes: {} },
      grow: { startRes: 8, stableKimg: 600, fadeKimg: 600 },
      mixingProb: 0.9,
      emaKimg: 10,
      wAvgDecay: 0.995,
      truncation: { psi: 0.7, cutoff: 8 },
      mirror: false,
    });
    expect(result.spec!.synthesis.constant).toEqual({ param: 'synthesis.const', channels: 8, size: 4 });
    expect(result.spec!.synthesis.fade).toBe('linear');
  });

  it('accepts names reserved in WGSL, GLSL and JavaScript', () => {
    const blocks = `block fn(let: real, type: real = 0.2, var: int = 8) { lrelu let gain type }
block storage() { fn(0.1) }
block sampler(function: int) { dense function; storage() }`;
    const source = tinyModel('', blocks).replace('mapping { pixelnorm; dense 8; lrelu }', 'mapping { pixelnorm; sampler(8) }');
    const result = checkSource(source, 'reserved.sgan');
    expect(result.diagnostics).toEqual([]);
    expect(result.spec!.mapping.layers[2]).toEqual({ kind: 'lrelu', slope: 0.1, gain: 0.2 });
  });

  it('reads imports through readFile', () => {
    const requested: string[] = [];
    const readFile = (path: string): string => {
      requested.push(path);
      if (path.endsWith('/lib/acts.sgan')) return 'block leaky() { lrelu 0.3 }\n';
      // The standard library still comes from disk.
      return readFileSync(path, 'utf8');
    };
    const source = `import lib.acts\n${tinyModel('')}`.replace('lrelu }', 'leaky() }');
    const result = checkSource(source, '/virtual/model.sgan', { readFile });
    expect(result.diagnostics).toEqual([]);
    expect(requested).toContain('/virtual/lib/acts.sgan');
    expect(result.spec!.mapping.layers[2]).toEqual({ kind: 'lrelu', slope: 0.3, gain: 1 });
  });

  it('reports every error and produces no spec', () => {
    const result = checkSource(tinyModel('train { mixing 2; r1 -1; mirror maybe }'), 'bad.sgan');
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(['E050', 'E050', 'E051']);
    expect(result.diagnostics[0]).toMatchObject({ file: 'bad.sgan', line: 11, column: 18, severity: 'error' });
  });

  it('reports a missing file', () => {
    const result = checkFile('does/not/exist.sgan');
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics).toEqual([
      { code: 'E002', severity: 'error', message: 'cannot read does/not/exist.sgan: file not found', file: 'does/not/exist.sgan', line: 1, column: 1, length: 1 },
    ]);
  });
});
