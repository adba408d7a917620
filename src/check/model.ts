// Semantic analysis of one model declaration: the header (latent and style sizes, image, channels),
// then the three networks and the training recipe, into a ModelSpec.
import type { ModelDecl, ModelItem, Value } from '../frontend/ast.ts';
import type { Span } from '../frontend/diagnostics.ts';
import type { DiscriminatorStage, ModelSpec, TrainRecipe } from '../model/spec.ts';
import type { Expander } from './expand.ts';
import { buildDiscriminator, buildMapping, buildSynthesis, type ModelHeader } from './networks.ts';
import { isPowerOfTwo, powersBetween, readInteger, readResolution, type Reporter } from './report.ts';
import { buildRecipe } from './train.ts';

type ItemOf<K extends ModelItem['kind']> = Extract<ModelItem, { kind: K }>;

const requiredItems: { kind: ModelItem['kind']; example: string }[] = [
  { kind: 'latent', example: 'latent z 512' },
  { kind: 'style', example: 'style w 512' },
  { kind: 'image', example: 'image 3 x 1024 x 1024' },
  { kind: 'channels', example: 'channels { 4: 512, 8: 512 }' },
  { kind: 'mapping', example: 'mapping { ... }' },
  { kind: 'synthesis', example: 'synthesis { ... }' },
  { kind: 'discriminator', example: 'discriminator { ... }' },
];

export function checkModel(model: ModelDecl, file: string, expander: Expander, report: Reporter): ModelSpec | undefined {
  const items = collectItems(model, report);
  const missing = requiredItems.filter((required) => !items.has(required.kind));
  for (const required of missing) {
    report.error(
      model.nameSpan,
      'E032',
      `model '${model.name}' has no '${required.kind}'`,
      `add for example '${required.example}'`,
    );
  }
  if (missing.length > 0) return undefined;

  const get = <K extends ModelItem['kind']>(kind: K): ItemOf<K> => items.get(kind) as ItemOf<K>;
  const synthesisItem = get('synthesis');
  const header = checkHeader(get('latent'), get('style'), get('image'), get('channels'), synthesisItem, report);
  if (header === undefined) return undefined;

  const mapping = buildMapping(get('mapping').body, header, expander, report);
  const synthesis = buildSynthesis(synthesisItem.items, synthesisItem.span, header, expander, report);
  const discriminatorItem = get('discriminator');
  const discriminator = buildDiscriminator(discriminatorItem.items, discriminatorItem.span, header, expander, report);
  const stages = powersBetween(header.constSize, header.resolution);
  const trainItem = items.get('train') as ItemOf<'train'> | undefined;
  const train = buildRecipe(trainItem?.settings ?? [], stages, report);
  checkBatchGroups(
    discriminator.spec.stages,
    train,
    trainItem?.settings.find((s) => s.kind === 'batch')?.span ?? model.nameSpan,
    report,
  );

  const stageChannels: Record<number, number> = {};
  for (const res of stages) stageChannels[res] = header.channels.get(res)!;
  return {
    name: model.name,
    file,
    zDim: header.zDim,
    wDim: header.wDim,
    imageChannels: header.imageChannels,
    resolution: header.resolution,
    stageChannels,
    mapping: mapping.spec,
    synthesis: synthesis.spec,
    discriminator: discriminator.spec,
    train,
    params: [...mapping.params, ...synthesis.params, ...discriminator.params],
    styleLayers: synthesis.styleLayers,
  };
}

/**
 * Reports minibatch sizes used in training that are not a multiple of the minibatch standard
 * deviation group. The group size is min(group, batch), and the batch must split into whole groups.
 */
function checkBatchGroups(stages: DiscriminatorStage[], train: TrainRecipe, span: Span, report: Reporter): void {
  const groups = stages.flatMap((stage) => stage.layers).flatMap((layer) => (layer.kind === 'mbstd' ? [layer.group] : []));
  const trained = stages.map((stage) => stage.res).filter((res) => res >= train.grow.startRes);
  for (const group of new Set(groups)) {
    const bad = trained.filter((res) => {
      const batch = train.batch.perRes[res] ?? train.batch.base;
      return batch % Math.min(group, batch) !== 0;
    });
    if (bad.length === 0) continue;
    const sizes = bad.map((res) => `${train.batch.perRes[res] ?? train.batch.base} (at ${res}x${res})`).join(', ');
    const verb = bad.length === 1 ? 'is not a multiple' : 'are not multiples';
    report.error(
      span,
      'E057',
      `minibatch size ${sizes} ${verb} of the mbstd group ${group}`,
      'use minibatch sizes that are multiples of the group, or a smaller group',
    );
  }
}

function collectItems(model: ModelDecl, report: Reporter): Map<ModelItem['kind'], ModelItem> {
  const items = new Map<ModelItem['kind'], ModelItem>();
  for (const item of model.items) {
    const first = items.get(item.kind);
    if (first !== undefined) {
      report.error(
        item.span,
        'E033',
        `'${item.kind}' is declared twice in model '${model.name}'; the first is at line ${first.span.line}`,
      );
      continue;
    }
    items.set(item.kind, item);
  }
  return items;
}

function checkHeader(
  latent: ItemOf<'latent'>,
  style: ItemOf<'style'>,
  image: ItemOf<'image'>,
  channelsItem: ItemOf<'channels'>,
  synthesis: ItemOf<'synthesis'>,
  report: Reporter,
): ModelHeader | undefined {
  const zDim = readInteger(report, latent.size, 'the latent size');
  const wDim = readInteger(report, style.size, 'the style size');
  const imageShape = readImage(image, report);

  const constItem = synthesis.items.find((item) => item.kind === 'const');
  let constSize: number | undefined = 4;
  if (constItem !== undefined && constItem.kind === 'const') {
    const size = constItem.size;
    if (size.kind === 'dims' && (size.dims.length !== 2 || size.dims[0] !== size.dims[1])) {
      report.error(size.span, 'E036', `the constant must be square, such as 4x4, found ${size.dims.join('x')}`);
      constSize = undefined;
    } else {
      const side: Value =
        size.kind === 'dims' ? { kind: 'number', value: size.dims[0]!, text: String(size.dims[0]), span: size.span } : size;
      constSize = readResolution(report, side, 'the constant size');
    }
  }

  const channels = new Map<number, number>();
  let channelsOk = true;
  for (const entry of channelsItem.map.entries) {
    const res = readResolution(report, entry.key, 'a resolution in the channels map');
    const count = readInteger(report, entry.value, 'a channel count');
    if (res === undefined || count === undefined) {
      channelsOk = false;
      continue;
    }
    if (channels.has(res)) {
      report.error(entry.key.span, 'E033', `resolution ${res} appears twice in the channels map`);
      channelsOk = false;
    }
    channels.set(res, count);
  }
  if (zDim === undefined || wDim === undefined || imageShape === undefined || constSize === undefined) return undefined;
  if (!channelsOk) return undefined;

  const resolution = imageShape.resolution;
  if (constSize > resolution) {
    report.error(
      image.dims.span,
      'E036',
      `the image resolution ${resolution} is smaller than the constant's size ${constSize}`,
    );
    return undefined;
  }
  const stages = powersBetween(constSize, resolution);
  const missing = stages.filter((res) => !channels.has(res));
  if (missing.length > 0) {
    report.error(
      channelsItem.map.span,
      'E037',
      `the channels map has no entry for resolution ${missing.join(', ')}`,
      `list every resolution from ${constSize} to ${resolution}`,
    );
    return undefined;
  }
  for (const entry of channelsItem.map.entries) {
    const res = entry.key.kind === 'number' ? entry.key.value : NaN;
    if (isPowerOfTwo(res) && !stages.includes(res)) {
      report.warning(
        entry.key.span,
        'W001',
        `resolution ${res} is not a stage of the model (${constSize} to ${resolution}), so its channel count is never used`,
      );
    }
  }
  return { zDim, wDim, imageChannels: imageShape.channels, resolution, constSize, channels };
}

function readImage(image: ItemOf<'image'>, report: Reporter): { channels: number; resolution: number } | undefined {
  const dims = image.dims;
  if (dims.kind !== 'dims' || dims.dims.length !== 3) {
    report.error(dims.span, 'E036', 'the image must be given as channels x height x width, such as 3 x 1024 x 1024');
    return undefined;
  }
  const [channels, height, width] = dims.dims as [number, number, number];
  if (channels < 1) {
    report.error(dims.span, 'E036', `the image needs at least 1 channel, found ${channels}`);
    return undefined;
  }
  if (height !== width) {
    report.error(dims.span, 'E036', `the image must be square, found ${height} x ${width}`);
    return undefined;
  }
  if (!isPowerOfTwo(height) || height < 4) {
    report.error(dims.span, 'E035', `the image resolution must be a power of two of at least 4, found ${height}`);
    return undefined;
  }
  return { channels, resolution: height };
}
