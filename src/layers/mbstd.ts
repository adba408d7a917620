// Minibatch standard deviation (Karras et al. 2018), laid out as in NVlabs' StyleGAN: the batch is
// reshaped to [G, M, F, C/F, H, W] with M = N / G, so sample n = g * M + m falls in group m = n % M.

import type { Builder } from '../ir/builder.ts';
import type { NodeId } from '../ir/graph.ts';
import { concatChannels } from './basic.ts';
import { ProgramRequestError } from './context.ts';

/**
 * Appends `features` channels to x `[N, C, H, W]`: per group and feature, the standard deviation
 * over the group's samples, sqrt(var + 1e-8), averaged over C/F, H and W, repeated over the
 * group's samples and all pixels. The group size is min(group, N), and N must be a multiple of it.
 */
export function minibatchStddev(b: Builder, x: NodeId, group: number, features: number): NodeId {
  const [n, c, h, w] = b.shape(x) as [number, number, number, number];
  const g = Math.min(group, n);
  if (n % g !== 0) {
    throw new ProgramRequestError(`minibatch stddev: batch ${n} is not a multiple of the group size ${g}; use a batch divisible by ${g}`);
  }
  if (c % features !== 0) throw new ProgramRequestError(`minibatch stddev: ${c} channels do not split into ${features} features`);
  const m = n / g;

  const grouped = b.reshape(x, [g, m, features, c / features, h, w]);
  const centred = b.sub(grouped, b.mean(grouped, [0], true));
  const variance = b.mean(b.unary('square', centred), [0]);
  const stddev = b.unary('sqrt', b.add(variance, b.scalar(1e-8)));
  const perGroup = b.mean(stddev, [2, 3, 4]);

  const tiled = b.broadcastTo(b.reshape(perGroup, [1, m, features, 1, 1]), [g, m, features, h, w]);
  return concatChannels(b, x, b.reshape(tiled, [n, features, h, w]));
}
