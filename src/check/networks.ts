// Builds the three networks of a ModelSpec from the checked model header and the expanded layer
// lists: stage coverage and continuity, shapes at every stage boundary, ToRGB and FromRGB, the
// parameter table and the style-layer map.
import type { DiscriminatorItem, LayerOp, LayerStatement, StageDecl, SynthesisItem } from '../frontend/ast.ts';
import { didYouMean, type Span } from '../frontend/diagnostics.ts';
import type {
  DiscriminatorStage,
  Layer,
  MappingSpec,
  ParamSpec,
  StyleLayerSpec,
  SynthesisSpec,
  SynthesisStage,
} from '../model/spec.ts';
import type { Expander, FlatLayer } from './expand.ts';
import {
  biasParam,
  DEFAULT_GAIN,
  DEFAULT_LRELU_SLOPE,
  describeShape,
  SectionBuilder,
  weightParam,
  type Shape,
} from './layers.ts';
import { powersBetween, readResolution, type Reporter } from './report.ts';

/** The checked model header that every network builder needs. */
export interface ModelHeader {
  zDim: number;
  wDim: number;
  imageChannels: number;
  resolution: number;
  /** Resolution of the learned constant and of the discriminator head. */
  constSize: number;
  channels: Map<number, number>;
}

const mappingLayers = new Set<LayerOp>(['pixelnorm', 'dense', 'bias', 'lrelu']);
const synthesisLayers = new Set<LayerOp>(['conv', 'bias', 'lrelu', 'noise', 'adain', 'upsample', 'blur', 'pixelnorm']);
const discriminatorLayers = new Set<LayerOp>(['conv', 'bias', 'lrelu', 'blur', 'downsample', 'mbstd', 'flatten', 'dense']);

export interface NetworkResult<T> {
  spec: T;
  params: ParamSpec[];
}

export function buildMapping(
  body: LayerStatement[],
  header: ModelHeader,
  expander: Expander,
  report: Reporter,
): NetworkResult<MappingSpec> {
  const section = new SectionBuilder(
    {
      network: 'mapping',
      prefix: 'mapping',
      where: 'the mapping network',
      allowed: mappingLayers,
      wDim: header.wDim,
      defaultConvOut: () => header.wDim,
      nextStyleIndex: () => 0,
      noiseInput: () => '',
    },
    { kind: 'vector', channels: header.zDim },
    report,
  );
  const { layers: flat, complete } = expander.expand(body);
  if (section.applyAll(flat) && complete) {
    const end = section.shape;
    if (end.kind !== 'vector' || end.channels !== header.wDim) {
      const site = flat[flat.length - 1]?.site ?? body[0]?.span;
      if (site !== undefined) {
        report.error(
          site,
          'E049',
          `the mapping network ends with ${describeShape(end)} but the style w has ${header.wDim} channels`,
          `make the last dense layer 'dense ${header.wDim}'`,
        );
      }
    }
  }
  return { spec: { layers: section.layers }, params: section.params };
}

interface StageTable {
  /** The stage declaration for each resolution that has one. */
  byRes: Map<number, StageDecl>;
  complete: boolean;
}

/**
 * Maps each expected resolution to its stage declaration, reporting stages outside the model,
 * stages declared twice and resolutions without a stage.
 */
function collectStages(stages: StageDecl[], expected: number[], where: string, sectionSpan: Span, report: Reporter): StageTable {
  const byRes = new Map<number, StageDecl>();
  let complete = true;
  for (const stage of stages) {
    const duplicates: { res: number; line: number }[] = [];
    const from = readResolution(report, stage.from, 'a stage resolution');
    const to = stage.to === undefined ? from : readResolution(report, stage.to, 'a stage resolution');
    if (from === undefined || to === undefined) {
      complete = false;
      continue;
    }
    for (const res of powersBetween(from, to)) {
      if (!expected.includes(res)) {
        const low = Math.min(...expected);
        const high = Math.max(...expected);
        report.error(stage.span, 'E042', `stage ${res} is outside the resolutions of ${where} (${low} to ${high})`);
        complete = false;
        continue;
      }
      const previous = byRes.get(res);
      if (previous !== undefined) {
        duplicates.push({ res, line: previous.span.line });
        continue;
      }
      byRes.set(res, stage);
    }
    if (duplicates.length > 0) {
      const single = duplicates.length === 1;
      const resolutions = duplicates.map((d) => d.res).join(' and ');
      const lines = duplicates.map((d) => d.line).join(' and ');
      const subject = single ? `stage ${resolutions} is` : `stages ${resolutions} are`;
      const message = `${subject} already declared in ${where} (line ${lines})`;
      report.error(stage.span, 'E041', message, 'each resolution needs exactly one stage');
      complete = false;
    }
  }
  const missing = expected.filter((res) => !byRes.has(res));
  if (missing.length > 0 && complete) {
    report.error(
      sectionSpan,
      'E040',
      `${where} has no stage for resolution ${missing.join(', ')}`,
      `every resolution from ${expected[0]} to ${expected[expected.length - 1]} needs exactly one stage`,
    );
  }
  return { byRes, complete: complete && missing.length === 0 };
}

/** Reports a second `const`, `torgb`, `fade` or `fromrgb` in a section; stages are checked by resolution. */
function reportRepeatedItems(items: (SynthesisItem | DiscriminatorItem)[], where: string, report: Reporter): void {
  const first = new Map<string, Span>();
  for (const item of items) {
    if (item.kind === 'stage') continue;
    const previous = first.get(item.kind);
    if (previous === undefined) {
      first.set(item.kind, item.span);
      continue;
    }
    report.error(
      item.span,
      'E033',
      `'${item.kind}' is declared twice in ${where}; the first is at line ${previous.line}`,
    );
  }
}

/** Expands each stage declaration once, however many resolutions its range covers. */
function expandStages(table: StageTable, expander: Expander): Map<StageDecl, { layers: FlatLayer[]; complete: boolean }> {
  const expanded = new Map<StageDecl, { layers: FlatLayer[]; complete: boolean }>();
  for (const stage of new Set(table.byRes.values())) expanded.set(stage, expander.expand(stage.body));
  return expanded;
}

function channelsAt(header: ModelHeader, res: number): number {
  // The header check guarantees an entry for every stage resolution.
  return header.channels.get(res) ?? 0;
}

function checkStageEnd(
  stage: StageDecl,
  res: number,
  shape: Shape,
  expected: Shape,
  where: string,
  hint: string,
  report: Reporter,
): void {
  if (shape.kind !== expected.kind || (shape.kind === 'image' && expected.kind === 'image' && shape.res !== expected.res)) {
    report.error(
      stage.span,
      'E054',
      `stage ${res} of ${where} ends with ${describeShape(shape)} but must end with ${describeShape(expected)}`,
      hint,
    );
  } else if (shape.channels !== expected.channels) {
    report.error(
      stage.span,
      'E044',
      `stage ${res} of ${where} ends with ${shape.channels} channels but must end with ${expected.channels}`,
      "the channels map sets each stage's feature channels; give the last conv an 'out' that matches it",
    );
  }
}

export function buildSynthesis(
  items: SynthesisItem[],
  sectionSpan: Span,
  header: ModelHeader,
  expander: Expander,
  report: Reporter,
): NetworkResult<SynthesisSpec> & { styleLayers: StyleLayerSpec[] } {
  const where = 'the synthesis network';
  const params: ParamSpec[] = [];
  const styleLayers: StyleLayerSpec[] = [];
  const { constSize, resolution, imageChannels, wDim } = header;
  const constChannels = channelsAt(header, constSize);
  params.push({
    name: 'synthesis.const',
    network: 'synthesis',
    shape: [constChannels, constSize, constSize],
    init: { kind: 'constant', value: 1 },
    runtimeScale: 1,
  });

  reportRepeatedItems(items, where, report);
  for (const item of items) {
    if (item.kind === 'fade' && item.mode !== 'linear') {
      report.error(
        item.modeSpan,
        'E051',
        `unknown fade '${item.mode}'; the only fade-in is linear`,
        didYouMean(item.mode, ['linear']),
      );
    }
  }
  if (!items.some((item) => item.kind === 'torgb')) {
    report.error(
      sectionSpan,
      'E052',
      `${where} has no 'torgb each stage'`,
      'add \'torgb each stage\' so that every stage can produce an image',
    );
  }
  const stageDecls = items.filter((item): item is StageDecl => item.kind === 'stage');
  const expected = powersBetween(constSize, resolution);
  const table = collectStages(stageDecls, expected, where, sectionSpan, report);
  const expanded = expandStages(table, expander);

  const stages: SynthesisStage[] = [];
  let styleIndex = 0;
  for (const res of expected) {
    const stage = table.byRes.get(res);
    if (stage === undefined) continue;
    const channels = channelsAt(header, res);
    const input: Shape =
      res === constSize
        ? { kind: 'image', channels: constChannels, res }
        : { kind: 'image', channels: channelsAt(header, res / 2), res: res / 2 };
    const prefix = `synthesis.b${res}`;
    const section = new SectionBuilder(
      {
        network: 'synthesis',
        prefix,
        where,
        allowed: synthesisLayers,
        wDim,
        defaultConvOut: () => channels,
        nextStyleIndex: () => styleIndex++,
        noiseInput: (index) => `noise.${prefix}.noise${index}`,
        ...(res === constSize ? { fallbackBiasOwner: { name: `${prefix}.const`, channels: constChannels, lrmul: 1 } } : {}),
      },
      input,
      report,
    );
    const { layers, complete } = expanded.get(stage)!;
    if (section.applyAll(layers) && complete) {
      const hint =
        res === constSize
          ? "the first stage keeps the constant's size"
          : "a synthesis stage above the constant starts with one 'upsample'";
      checkStageEnd(stage, res, section.shape, { kind: 'image', channels, res }, where, hint, report);
    }
    params.push(...section.params);

    const torgb = `${prefix}.torgb`;
    params.push(weightParam(`${torgb}.weight`, 'synthesis', [imageChannels, channels, 1, 1], channels, 1, 1));
    params.push(biasParam(`${torgb}.bias`, 'synthesis', imageChannels, 1));
    const torgbConv: Layer = {
      kind: 'conv',
      name: torgb,
      in: channels,
      out: imageChannels,
      kernel: 1,
      weight: `${torgb}.weight`,
      bias: `${torgb}.bias`,
    };

    const styleIndices = section.styleLayers.map((s) => s.index);
    stages.push({ res, channels, layers: section.layers, torgb: [torgbConv], styleLayers: styleIndices });
    styleLayers.push(...section.styleLayers.map((s) => ({ index: s.index, res, layer: s.layer })));
  }

  const spec: SynthesisSpec = {
    constant: { param: 'synthesis.const', channels: constChannels, size: constSize },
    stages,
    fade: 'linear',
  };
  return { spec, params, styleLayers };
}

export function buildDiscriminator(
  items: DiscriminatorItem[],
  sectionSpan: Span,
  header: ModelHeader,
  expander: Expander,
  report: Reporter,
): NetworkResult<{ stages: DiscriminatorStage[] }> {
  const where = 'the discriminator';
  const params: ParamSpec[] = [];
  const { constSize: head, resolution, imageChannels, wDim } = header;
  reportRepeatedItems(items, where, report);
  if (!items.some((item) => item.kind === 'fromrgb')) {
    report.error(
      sectionSpan,
      'E052',
      `${where} has no 'fromrgb each stage'`,
      'add \'fromrgb each stage\' so that every stage can read an image',
    );
  }
  const stageDecls = items.filter((item): item is StageDecl => item.kind === 'stage');
  const expected = powersBetween(resolution, head);
  const table = collectStages(stageDecls, expected, where, sectionSpan, report);
  const expanded = expandStages(table, expander);

  const stages: DiscriminatorStage[] = [];
  for (const res of expected) {
    const stage = table.byRes.get(res);
    if (stage === undefined) continue;
    const channels = channelsAt(header, res);
    const next = res > head ? channelsAt(header, res / 2) : channels;
    const prefix = `discriminator.b${res}`;

    const fromrgb = `${prefix}.fromrgb`;
    const fromrgbShape = [channels, imageChannels, 1, 1];
    params.push(weightParam(`${fromrgb}.weight`, 'discriminator', fromrgbShape, imageChannels, 1, DEFAULT_GAIN));
    params.push(biasParam(`${fromrgb}.bias`, 'discriminator', channels, 1));
    const fromrgbLayers: Layer[] = [
      {
        kind: 'conv',
        name: fromrgb,
        in: imageChannels,
        out: channels,
        kernel: 1,
        weight: `${fromrgb}.weight`,
        bias: `${fromrgb}.bias`,
      },
      { kind: 'lrelu', slope: DEFAULT_LRELU_SLOPE, gain: 1 },
    ];

    const section = new SectionBuilder(
      {
        network: 'discriminator',
        prefix,
        where,
        allowed: discriminatorLayers,
        wDim,
        defaultConvOut: (last) => (last ? next : channels),
        nextStyleIndex: () => 0,
        noiseInput: () => '',
      },
      { kind: 'image', channels, res },
      report,
    );
    const { layers, complete } = expanded.get(stage)!;
    if (section.applyAll(layers) && complete) {
      if (res > head) {
        const hint = "a discriminator stage above the head ends with one 'downsample'";
        checkStageEnd(stage, res, section.shape, { kind: 'image', channels: next, res: res / 2 }, where, hint, report);
      } else if (section.shape.kind !== 'vector' || section.shape.channels !== 1) {
        report.error(
          stage.span,
          'E053',
          `the discriminator head must end in one logit [N, 1] but ends with ${describeShape(section.shape)}`,
          "end the head with 'flatten', a dense layer and 'dense 1 gain 1'",
        );
      }
    }
    params.push(...section.params);
    stages.push({ res, channels, fromrgb: fromrgbLayers, layers: section.layers });
  }
  return { spec: { stages }, params };
}
