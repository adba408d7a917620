import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { TrainRecipe } from '../../src/model/spec.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { emaBeta, learningRate, minibatchSize, mixingLayers, phaseAt } from '../../src/runtime/schedule.ts';

function recipe(grow: TrainRecipe['grow'], overrides: Partial<TrainRecipe> = {}): TrainRecipe {
  return {
    loss: 'nonsaturating',
    r1Gamma: 10,
    adam: { beta1: 0, beta2: 0.99, eps: 1e-8 },
    lr: { base: 0.001, perRes: { 128: 0.0015, 256: 0.002 } },
    batch: { base: 16, perRes: { 8: 64, 16: 32 } },
    grow,
    mixingProb: 0.9,
    emaKimg: 10,
    wAvgDecay: 0.995,
    truncation: { psi: 0.7, cutoff: 8 },
    mirror: false,
    ...overrides,
  };
}

describe('phaseAt', () => {
  const small = recipe({ startRes: 8, stableKimg: 20, fadeKimg: 20 });

  it('walks the phases of 8 to 32', () => {
    const cases: [number, number, boolean, number, number, number, number][] = [
      // kimg, res, fading, alpha, level, start, end
      [0, 8, false, 1, 0, 0, 20],
      [19.999, 8, false, 1, 0, 0, 20],
      [20, 16, true, 0, 1, 20, 40],
      [30, 16, true, 0.5, 1, 20, 40],
      [35, 16, true, 0.75, 1, 20, 40],
      [40, 16, false, 1, 1, 40, 60],
      [60, 32, true, 0, 2, 60, 80],
      [80, 32, false, 1, 2, 80, Infinity],
      [100_000, 32, false, 1, 2, 80, Infinity],
    ];
    for (const [kimg, res, fading, alpha, level, start, end] of cases) {
      const phase = phaseAt(small, 32, kimg);
      expect(phase.res, `res at ${kimg} kimg`).toBe(res);
      expect(phase.fading, `fading at ${kimg} kimg`).toBe(fading);
      expect(phase.alpha, `alpha at ${kimg} kimg`).toBeCloseTo(alpha, 12);
      expect(phase.level, `level at ${kimg} kimg`).toBe(level);
      expect(phase.phaseStartKimg, `start at ${kimg} kimg`).toBe(start);
      expect(phase.phaseEndKimg, `end at ${kimg} kimg`).toBe(end);
    }
  });

  it('ramps alpha over a fade of 1000 steps', () => {
    // Batch 16 and a 16 kimg fade: the fade takes exactly 1000 steps.
    const r = recipe({ startRes: 8, stableKimg: 16, fadeKimg: 16 });
    const kimgAtStep = (step: number): number => 16 + (step * 16) / 1000;
    expect(phaseAt(r, 16, kimgAtStep(0)).alpha).toBe(0);
    expect(phaseAt(r, 16, kimgAtStep(250)).alpha).toBeCloseTo(0.25, 12);
    expect(phaseAt(r, 16, kimgAtStep(500)).alpha).toBeCloseTo(0.5, 12);
    expect(phaseAt(r, 16, kimgAtStep(999)).alpha).toBeCloseTo(0.999, 12);
    expect(phaseAt(r, 16, kimgAtStep(999)).fading).toBe(true);
    expect(phaseAt(r, 16, kimgAtStep(1000)).fading).toBe(false);
    expect(phaseAt(r, 16, kimgAtStep(1000)).alpha).toBe(1);
  });

  it('follows the paper schedule to 1024', () => {
    // 600 kimg stable at 4x4, then 1200 kimg per level. 1024 is level 8, so it fades in from
    // 600 + 7 * 1200 = 9000 to 9600 kimg.
    const paper = recipe({ startRes: 4, stableKimg: 600, fadeKimg: 600 });
    expect(phaseAt(paper, 1024, 599).res).toBe(4);
    expect(phaseAt(paper, 1024, 600).res).toBe(8);
    expect(phaseAt(paper, 1024, 1799).res).toBe(8);
    expect(phaseAt(paper, 1024, 1800).res).toBe(16);
    const fade = phaseAt(paper, 1024, 9300);
    expect(fade.res).toBe(1024);
    expect(fade.level).toBe(8);
    expect(fade.alpha).toBeCloseTo(0.5, 12);
    expect(phaseAt(paper, 1024, 8999).res).toBe(512);
    expect(phaseAt(paper, 1024, 9600).fading).toBe(false);
  });

  it('stays at a start equal to the final resolution', () => {
    const phase = phaseAt(small, 8, 500);
    expect(phase).toEqual({ res: 8, fading: false, alpha: 1, level: 0, phaseStartKimg: 0, phaseEndKimg: Infinity });
  });

  it('skips fades of zero length', () => {
    const noFade = recipe({ startRes: 8, stableKimg: 10, fadeKimg: 0 });
    expect(phaseAt(noFade, 32, 9).res).toBe(8);
    expect(phaseAt(noFade, 32, 10)).toMatchObject({ res: 16, fading: false, alpha: 1, level: 1 });
    expect(phaseAt(noFade, 32, 20)).toMatchObject({ res: 32, fading: false, phaseEndKimg: Infinity });
  });

  it('rejects invalid schedules', () => {
    expect(() => phaseAt(small, 4, 0)).toThrow(/start resolution 8 is above the final resolution 4/);
    expect(() => phaseAt(small, 48, 0)).toThrow(/final resolution 48 is not a power of two/);
    expect(() => phaseAt(small, 32, -1)).toThrow(/invalid training progress -1/);
  });
});

describe('per-resolution settings', () => {
  const r = recipe({ startRes: 8, stableKimg: 20, fadeKimg: 20 });

  it('picks learning rates with fallback', () => {
    expect(learningRate(r, 128)).toBe(0.0015);
    expect(learningRate(r, 256)).toBe(0.002);
    expect(learningRate(r, 64)).toBe(0.001);
  });

  it('picks minibatch sizes with fallback', () => {
    expect(minibatchSize(r, 8)).toBe(64);
    expect(minibatchSize(r, 16)).toBe(32);
    expect(minibatchSize(r, 32)).toBe(16);
  });

  it('halves the EMA weight every half-life', () => {
    // 10 kimg half-life at batch 16: 10000 / 16 = 625 steps halve an old snapshot's weight.
    const beta = emaBeta(r, 16);
    expect(beta).toBeGreaterThan(0.99);
    expect(beta ** 625).toBeCloseTo(0.5, 12);
    expect(emaBeta(r, 32) ** 312.5).toBeCloseTo(0.5, 12);
    expect(emaBeta({ ...r, emaKimg: 0 }, 16)).toBe(0);
  });
});

describe('mixingLayers', () => {
  it('draws crossovers in [1, numLayers)', () => {
    const rng = new Rng(5);
    const counts = new Map<number, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const k = mixingLayers(rng, 0.9, 8);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Without mixing (10%) the result is 8, and each crossover 1..7 has 90% / 7.
    expect(Math.abs(counts.get(8)! / n - 0.1)).toBeLessThan(0.01);
    for (let k = 1; k < 8; k++) expect(Math.abs(counts.get(k)! / n - 0.9 / 7)).toBeLessThan(0.012);
  });

  it('honours probabilities 0 and 1', () => {
    const rng = new Rng(6);
    for (let i = 0; i < 1000; i++) {
      expect(mixingLayers(rng, 0, 6)).toBe(6);
      const k = mixingLayers(rng, 1, 6);
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThan(6);
    }
  });

  it('returns one layer unmixed', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) expect(mixingLayers(rng, 1, 1)).toBe(1);
  });
});

describe('phaseAt properties', () => {
  it('keeps kimg inside the reported phase', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(4, 8, 16),
        fc.integer({ min: 0, max: 4 }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.double({ min: 0, max: 20_000, noNaN: true }),
        (startRes, extraLevels, stableKimg, fadeKimg, kimg) => {
          const finalRes = startRes * 2 ** extraLevels;
          const phase = phaseAt(recipe({ startRes, stableKimg, fadeKimg }), finalRes, kimg);
          expect(phase.phaseStartKimg).toBeLessThanOrEqual(kimg);
          expect(kimg).toBeLessThan(phase.phaseEndKimg);
          expect(phase.res).toBe(startRes * 2 ** phase.level);
          expect(phase.res).toBeLessThanOrEqual(finalRes);
          expect(phase.alpha).toBeGreaterThanOrEqual(0);
          expect(phase.alpha).toBeLessThanOrEqual(1);
          expect(phase.fading || phase.alpha === 1).toBe(true);
        },
      ),
    );
  });

  it('never shrinks the resolution as kimg grows', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        (stableKimg, fadeKimg, a, b) => {
          const r = recipe({ startRes: 4, stableKimg, fadeKimg });
          const [early, late] = [phaseAt(r, 64, Math.min(a, b)), phaseAt(r, 64, Math.max(a, b))];
          expect(late.level).toBeGreaterThanOrEqual(early.level);
          if (late.level === early.level && early.fading && late.fading) {
            expect(late.alpha).toBeGreaterThanOrEqual(early.alpha);
          }
        },
      ),
    );
  });
});
