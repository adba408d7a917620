import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';
import { printGraph } from '../../src/ir/print.ts';

describe('printGraph', () => {
  it('prints one line per node and the outputs', () => {
    const b = new Builder();
    const x = b.input('x', [8, 3, 16, 16]);
    const w = b.param('w', [64, 3, 3, 3]);
    const y = b.conv2d(x, w, { padding: [1, 1, 1, 1] });
    const act = b.unary('lrelu', y, 0.2);
    const pooled = b.sum(act, [2, 3], true);
    const blur = b.literal([3], [1, 2, 1]);
    b.output('y', pooled);
    b.output('blur', blur);
    expect(printGraph(b.graph)).toBe(
      [
        '%0 = input "x" : [8, 3, 16, 16]',
        '%1 = param "w" : [64, 3, 3, 3]',
        '%2 = conv2d(%0, %1) stride=1 pad=[1,1,1,1] groups=1 : [8, 64, 16, 16]',
        '%3 = lrelu(%2) slope=0.2 : [8, 64, 16, 16]',
        '%4 = reduceSum(%3) axes=[2,3] keepDims=true : [8, 64, 1, 1]',
        '%5 = literal [1, 2, 1] : [3]',
        'output "y" = %4',
        'output "blur" = %5',
        '',
      ].join('\n'),
    );
  });

  it('prints movement attributes and randn', () => {
    const b = new Builder();
    const key = b.input('key', []);
    const noise = b.randn([2, 4], key, 3);
    const padded = b.pad(noise, [0, 1], [0, 1], [0, 1]);
    const sliced = b.slice(padded, [0, 1], [2, 9], [1, 2]);
    b.flip(sliced, [1]);
    b.permute(sliced, [1, 0]);
    expect(printGraph(b.graph).split('\n').slice(1, 6)).toEqual([
      '%1 = randn(%0) stream=3 : [2, 4]',
      '%2 = pad(%1) low=[0,1] high=[0,1] interior=[0,1] : [2, 9]',
      '%3 = slice(%2) start=[0,1] end=[2,9] step=[1,2] : [2, 4]',
      '%4 = flip(%3) axes=[1] : [2, 4]',
      '%5 = permute(%3) perm=[1,0] : [4, 2]',
    ]);
  });
});
