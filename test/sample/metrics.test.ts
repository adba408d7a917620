// The shipped feature classifier and `sganc metrics`: the classifier still classifies the embedded
// test split, and the distance separates real images from altered ones.

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { loadDataset } from '../../src/runtime/data.ts';
import { buildClassifier, CLASS_COUNT, FEATURE_DIM, loadClassifier, readIdxLabels } from '../../src/runtime/sample/classifier.ts';
import { frechetDistance, meanAndCovariance } from '../../src/runtime/sample/frechet.ts';
import type { Tensor } from '../../src/runtime/tensor.ts';
import { refTarget } from '../../targets/ref/index.ts';
import { tempDir } from '../train/helpers.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const COUNT = 400;

describe('feature classifier', async () => {
  const classifier = loadClassifier();
  const data = await loadDataset(undefined, { channels: 1, resolution: 32 });
  const labels = readIdxLabels(join(ROOT, 'data', 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'));
  const program = refTarget.compile(buildClassifier(COUNT), 'classifier');
  const run = async (x: Tensor) => program.run({ x, ...classifier.params });
  const first = Array.from({ length: COUNT }, (_, i) => i);
  const second = first.map((i) => i + COUNT);

  it('classifies the test split', async () => {
    const logits = (await run(data.batch(first, 32)))['logits']!;
    let correct = 0;
    for (let n = 0; n < COUNT; n++) {
      const row = Array.from(logits.data.subarray(n * CLASS_COUNT, (n + 1) * CLASS_COUNT));
      if (row.indexOf(Math.max(...row)) === labels[n]) correct += 1;
    }
    // The recorded accuracy is over all 10,000 test images; 400 of them vary by a few points.
    expect(classifier.testAccuracy).toBeGreaterThan(0.85);
    expect(correct / COUNT).toBeGreaterThan(0.8);
  });

  it('separates reals from altered images', async () => {
    const stats = async (x: Tensor) => meanAndCovariance((await run(x))['features']!.data, COUNT, FEATURE_DIM);
    const realA = await stats(data.batch(first, 32));
    const realB = await stats(data.batch(second, 32));
    const negated = data.batch(second, 32);
    for (let i = 0; i < negated.data.length; i++) negated.data[i] = -negated.data[i]!;
    const realToReal = frechetDistance(realA, realB, FEATURE_DIM);
    const realToNegated = frechetDistance(realA, await stats(negated), FEATURE_DIM);
    expect(realToReal).toBeGreaterThan(0);
    expect(realToNegated).toBeGreaterThan(10 * realToReal);
  });
});

describe('sganc metrics', () => {
  it('measures a checkpoint smaller than 32x32', () => {
    const cwd = tempDir('metrics');
    const sganc = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'sganc.mjs'), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
    const gray = join(ROOT, 'test', 'train', 'fixtures', 'tiny-8.sgan');
    expect(sganc(['train', gray, '--kimg', '0.004', '--out', join(cwd, 'gray')]).status).toBe(0);
    const measured = sganc(['metrics', join(cwd, 'gray'), '--samples', '100']);
    expect(measured.status).toBe(0);
    expect(measured.stdout).toMatch(/^FD \d+\.\d{3}: 100 reals/m);
  });
});
