// Output shapes and one-line descriptions of ModelSpec layers, for `sganc graph` and for tests that
// walk a network. Shapes leave out the batch axis N.
import type { Layer } from '../model/spec.ts';

export type FeatureShape = number[];

/** Returns the shape after `layer`, given the input shape `[C]` or `[C, H, W]`. */
export function layerOutputShape(layer: Layer, input: FeatureShape): FeatureShape {
  const [channels = 0, height = 1, width = 1] = input;
  switch (layer.kind) {
    case 'dense':
      return [layer.out];
    case 'conv':
      return [layer.out, height, width];
    case 'upsample':
      return [channels, height * 2, width * 2];
    case 'downsample':
      return [channels, height / 2, width / 2];
    case 'mbstd':
      return [channels + layer.features, height, width];
    case 'flatten':
      return [input.reduce((product, size) => product * size, 1)];
    case 'pixelnorm':
    case 'bias':
    case 'lrelu':
    case 'noise':
    case 'adain':
    case 'blur':
      return input;
  }
}

export function describeLayer(layer: Layer): string {
  switch (layer.kind) {
    case 'pixelnorm':
      return `pixelnorm eps ${layer.eps}`;
    case 'dense':
      return `dense ${layer.in} -> ${layer.out}${layer.bias === undefined ? '' : ' + bias'}`;
    case 'conv':
      return `conv ${layer.kernel}x${layer.kernel} ${layer.in} -> ${layer.out}${layer.bias === undefined ? '' : ' + bias'}`;
    case 'bias':
      return `bias ${layer.channels}`;
    case 'lrelu':
      return layer.gain === 1 ? `lrelu ${layer.slope}` : `lrelu ${layer.slope} gain ${layer.gain}`;
    case 'noise':
      return `noise ${layer.channels}`;
    case 'adain':
      return `adain style ${layer.styleIndex}`;
    case 'upsample':
      return `upsample ${layer.mode}`;
    case 'blur':
      return `blur [${layer.kernel.join(', ')}]`;
    case 'downsample':
      return 'downsample 2x2 average';
    case 'mbstd':
      return `mbstd group ${layer.group} features ${layer.features}`;
    case 'flatten':
      return 'flatten';
  }
}

/** Returns the name a layer owns in the parameter table, or '' for layers without parameters. */
export function layerName(layer: Layer): string {
  return 'name' in layer ? layer.name : '';
}
