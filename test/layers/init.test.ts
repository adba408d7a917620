import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/params/init.ts';
import { tinySpec } from './tiny-spec.ts';

describe('initParams', () => {
  const spec = tinySpec({ zDim: 64, wDim: 64, lrmul: 0.01, mappingLayers: 2 });

  it('creates every parameter with its shape', () => {
    const params = initParams(spec, 0);
    expect(Object.keys(params).sort()).toEqual(spec.params.map((p) => p.name).sort());
    for (const p of spec.params) expect(params[p.name]!.shape).toEqual(p.shape);
  });

  it('is deterministic per seed', () => {
    const a = initParams(spec, 7);
    const b = initParams(spec, 7);
    const c = initParams(spec, 8);
    for (const p of spec.params) expect(b[p.name]!.data).toEqual(a[p.name]!.data);
    expect(c['mapping.dense0.weight']!.data).not.toEqual(a['mapping.dense0.weight']!.data);
  });

  it('fills constants exactly', () => {
    const params = initParams(spec, 3);
    expect(Array.from(params['synthesis.const']!.data).every((v) => v === 1)).toBe(true);
    expect(Array.from(params['synthesis.b8.noise0.strength']!.data).every((v) => v === 0)).toBe(true);
    expect(Array.from(params['mapping.dense0.bias']!.data).every((v) => v === 0)).toBe(true);
  });

  it('draws normal weights with the requested std', () => {
    // 64 x 64 = 4096 samples of N(0, 100^2): the sample std has a standard error of about 1.1.
    const data = initParams(spec, 11)['mapping.dense1.weight']!.data;
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    const std = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
    expect(Math.abs(mean)).toBeLessThan(6);
    expect(std).toBeGreaterThan(95);
    expect(std).toBeLessThan(105);
    const withinOneStd = data.filter((v) => Math.abs(v - mean) < std).length / data.length;
    expect(withinOneStd).toBeGreaterThan(0.66);
    expect(withinOneStd).toBeLessThan(0.71);
  });

  it('gives different parameters different values', () => {
    const params = initParams(spec, 5);
    expect(params['mapping.dense0.weight']!.data.slice(0, 64)).not.toEqual(params['mapping.dense1.weight']!.data.slice(0, 64));
  });

  it('rejects a negative or fractional seed', () => {
    expect(() => initParams(spec, -1)).toThrow(/non-negative integer/);
    expect(() => initParams(spec, 1.5)).toThrow(/non-negative integer/);
  });
});
