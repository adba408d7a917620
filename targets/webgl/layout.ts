// Texture layouts of the tensors that gpu.js kernels write. A kernel's output is a 2D float texture
// of width x height texels holding the tensor in row-major order, one float per texel. Both sides
// must stay within the device's MAX_TEXTURE_SIZE, so wide tensors put several rows of the innermost
// axis side by side in one texture row instead of one [W, C*H] strip.

import { formatShape, numel, type Shape } from '../../src/ir/graph.ts';

/** Index math runs in float32, whose integers are exact below 2^24; every flat index must stay below it. */
export const MAX_WEBGL_ELEMENTS = 2 ** 24;

/** The texture size assumed when no option gives one: WebGL2 guarantees 2048, and desktop GPUs offer 4096 or more. */
export const DEFAULT_MAX_TEXTURE_SIZE = 4096;

export interface TextureLayout {
  width: number;
  height: number;
  /** Elements of the tensor; texels past it are padding. */
  size: number;
}

/** A tensor that does not fit the WebGL target's textures or index range. */
export class WebglLayoutError extends Error {
  override name = 'WebglLayoutError';
}

/**
 * Chooses a near-square layout whose width is a multiple of the innermost axis when that axis fits
 * in one texture row. Throws WebglLayoutError naming the tensor when it has 2^24 elements or more
 * or needs more than maxTextureSize texels on a side.
 */
export function textureLayout(name: string, shape: Shape, maxTextureSize: number): TextureLayout {
  const size = Math.max(1, numel(shape));
  const advice = 'use --target wgsl or --target cpu for this model';
  if (size >= MAX_WEBGL_ELEMENTS) {
    throw new WebglLayoutError(
      `tensor ${name} ${formatShape(shape)} has ${size} elements, but the webgl target computes indices in float32 and ` +
        `supports fewer than 2^24 (${MAX_WEBGL_ELEMENTS}); ${advice}`,
    );
  }
  const inner = shape.length === 0 ? 1 : Math.max(1, shape[shape.length - 1]!);
  let width: number;
  if (inner <= maxTextureSize) {
    const rowsPerTextureRow = Math.max(1, Math.min(Math.ceil(Math.sqrt(size) / inner), Math.floor(maxTextureSize / inner)));
    width = Math.min(inner * rowsPerTextureRow, size);
  } else {
    width = maxTextureSize;
  }
  const height = Math.ceil(size / width);
  if (height > maxTextureSize) {
    throw new WebglLayoutError(
      `tensor ${name} ${formatShape(shape)} needs a ${width}x${height} texture, over the texture size limit of ` +
        `${maxTextureSize} (MAX_TEXTURE_SIZE); ${advice}`,
    );
  }
  return { width, height, size };
}
