import { describe, expect, it } from 'vitest';

import { Adam } from '../../src/runtime/adam.ts';
import { tensor } from '../../src/runtime/tensor.ts';

describe('Adam', () => {
  it('takes one step by hand', () => {
    // After one step m / (1 - b1) = g and v / (1 - b2) = g^2, so p moves by lr * g / (|g| + eps).
    const adam = new Adam({ w: [2] }, { beta1: 0, beta2: 0.99, eps: 1e-8 });
    const params = { w: tensor([2], [1, -1]) };
    adam.step(params, { w: tensor([2], [2, -0.5]) }, 0.1);
    expect(params.w.data[0]).toBeCloseTo(0.9, 6);
    expect(params.w.data[1]).toBeCloseTo(-0.9, 6);
    expect(adam.steps).toBe(1);
  });

  it('takes two steps by hand', () => {
    // b1 = b2 = 0.5, lr = 0.1, p = 1, g = 2 then -4.
    // Step 1: m = 1, v = 2, m^ = 2, v^ = 4, p = 1 - 0.1 * 2 / 2 = 0.9.
    // Step 2: m = 0.5 - 2 = -1.5, v = 1 + 8 = 9, m^ = -1.5 / 0.75 = -2, v^ = 9 / 0.75 = 12,
    //         p = 0.9 + 0.2 / sqrt(12).
    const adam = new Adam({ w: [1] }, { beta1: 0.5, beta2: 0.5, eps: 1e-8 });
    const params = { w: tensor([1], [1]) };
    adam.step(params, { w: tensor([1], [2]) }, 0.1);
    expect(params.w.data[0]).toBeCloseTo(0.9, 6);
    adam.step(params, { w: tensor([1], [-4]) }, 0.1);
    expect(params.w.data[0]).toBeCloseTo(0.9 + 0.2 / Math.sqrt(12), 6);

    const state = adam.stateTensors();
    expect(state['adam.m.w']!.data[0]).toBeCloseTo(-1.5, 6);
    expect(state['adam.v.w']!.data[0]).toBeCloseTo(9, 6);
  });

  it('resets moments and step count', () => {
    const adam = new Adam({ w: [1] }, { beta1: 0.5, beta2: 0.5, eps: 1e-8 });
    const params = { w: tensor([1], [1]) };
    adam.step(params, { w: tensor([1], [2]) }, 0.1);
    adam.reset();
    expect(adam.steps).toBe(0);
    expect(adam.stateTensors()['adam.m.w']!.data[0]).toBe(0);
    expect(adam.stateTensors()['adam.v.w']!.data[0]).toBe(0);
    // After a reset the next step is a first step again: p moves by lr * sign(g).
    adam.step(params, { w: tensor([1], [-4]) }, 0.1);
    expect(params.w.data[0]).toBeCloseTo(1, 6);
  });

  it('resumes from saved state', () => {
    const opts = { beta1: 0.5, beta2: 0.5, eps: 1e-8 };
    const first = new Adam({ w: [1] }, opts);
    const p1 = { w: tensor([1], [1]) };
    first.step(p1, { w: tensor([1], [2]) }, 0.1);
    const saved = Object.fromEntries(
      Object.entries(first.stateTensors()).map(([k, t]) => [k, tensor(t.shape, t.data)]),
    );

    const second = new Adam({ w: [1] }, opts);
    second.loadState({ ...saved, unrelated: tensor([3]) }, first.steps);
    const p2 = { w: tensor([1], p1.w.data) };
    first.step(p1, { w: tensor([1], [-4]) }, 0.1);
    second.step(p2, { w: tensor([1], [-4]) }, 0.1);
    expect(second.steps).toBe(2);
    expect(p2.w.data[0]).toBe(p1.w.data[0]);
  });

  it('ignores names it does not own', () => {
    const adam = new Adam({ g: [1] }, { beta1: 0, beta2: 0.99, eps: 1e-8 });
    const params = { g: tensor([1], [0]), d: tensor([1], [5]) };
    adam.step(params, { g: tensor([1], [1]), d: tensor([1], [1]) }, 0.01);
    expect(params.d.data[0]).toBe(5);
    expect(params.g.data[0]).toBeCloseTo(-0.01, 6);
  });

  it('rejects missing and misshapen tensors', () => {
    const adam = new Adam({ w: [2, 2] }, { beta1: 0, beta2: 0.99, eps: 1e-8 });
    const params = { w: tensor([2, 2]) };
    expect(() => adam.step(params, {}, 0.1)).toThrow("Adam: missing gradient 'w'");
    expect(() => adam.step({}, { w: tensor([2, 2]) }, 0.1)).toThrow("Adam: missing parameter 'w'");
    expect(() => adam.step(params, { w: tensor([4]) }, 0.1)).toThrow(
      "Adam: gradient 'w' has shape [4], expected [2, 2]",
    );
    expect(adam.steps).toBe(0);
    expect(() => adam.loadState({}, 3)).toThrow("Adam: missing saved moment 'adam.m.w'");
    expect(() => adam.loadState({}, -1)).toThrow(/invalid Adam step count -1/);
    expect(() => new Adam({}, { beta1: 1, beta2: 0.99, eps: 1e-8 })).toThrow(/invalid Adam options/);
  });
});
