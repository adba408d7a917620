import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.ts';

describe('Builder.permute', () => {
  it('accepts a permutation of rank 11', () => {
    // A default (string) sort would order 10 before 2 and reject this valid permutation.
    const b = new Builder();
    const shape = [1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 3];
    const x = b.input('x', shape);
    const perm = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
    const y = b.permute(x, perm);
    expect(b.shape(y)).toEqual([...shape].reverse());
  });

  it('rejects a repeated axis', () => {
    const b = new Builder();
    const x = b.input('x', [2, 3]);
    expect(() => b.permute(x, [1, 1])).toThrow(/permutation \[1, 1\] does not match rank 2/);
  });
});
