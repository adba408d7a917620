// Trains the feature classifier of `sganc metrics` on the 60,000 Fashion-MNIST training images from
// Debian's dataset-fashion-mnist package and writes its weights with the test-split accuracy.
// Run: npx tsx src/runtime/sample/train-classifier.ts [--epochs N] [--threads N]

import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { getTarget } from '../../../targets/index.ts';
import { Adam } from '../adam.ts';
import { FASHION_MNIST_SYSTEM_DIR, loadFashionMnistFrom } from '../data.ts';
import { Rng } from '../rng.ts';
import { writeSafetensors } from '../safetensors.ts';
import { tensor, type TensorMap } from '../tensor.ts';
import {
  buildClassifier,
  buildClassifierStep,
  CLASS_COUNT,
  CLASSIFIER_RES,
  CLASSIFIER_WEIGHTS,
  initClassifier,
  readIdxLabels,
} from './classifier.ts';

const BATCH = 100;
const LEARNING_RATE = 1e-3;

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '3' }, threads: { type: 'string' } } });
const epochs = Number(values.epochs);
const target = getTarget('cpu', values.threads === undefined ? {} : { threads: Number(values.threads) });
const load = (split: string) =>
  loadFashionMnistFrom(FASHION_MNIST_SYSTEM_DIR, [split], `Fashion-MNIST ${split}`, { channels: 1, resolution: CLASSIFIER_RES });
const train = await load('train');
const test = await load('t10k');
const trainLabels = readIdxLabels(join(FASHION_MNIST_SYSTEM_DIR, 'train-labels-idx1-ubyte.gz'));
const testLabels = readIdxLabels(join(FASHION_MNIST_SYSTEM_DIR, 't10k-labels-idx1-ubyte.gz'));

const params = initClassifier(1);
const adam = new Adam(Object.fromEntries(Object.entries(params).map(([name, t]) => [name, t.shape])), { beta1: 0.9, beta2: 0.999, eps: 1e-8 });
const step = target.compile(buildClassifierStep(BATCH), 'classifier.step');
const rng = new Rng(2);
const start = Date.now();
for (let epoch = 0; epoch < epochs; epoch++) {
  const order = Array.from({ length: train.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let lossSum = 0;
  let steps = 0;
  for (let first = 0; first + BATCH <= order.length; first += BATCH) {
    const indices = order.slice(first, first + BATCH);
    const labels = tensor([BATCH, CLASS_COUNT]);
    indices.forEach((index, k) => (labels.data[k * CLASS_COUNT + trainLabels[index]!] = 1));
    const result = await step.run({ x: train.batch(indices, CLASSIFIER_RES), labels, ...params });
    const grads: TensorMap = {};
    for (const name of Object.keys(params)) grads[name] = result[`grad.${name}`]!;
    adam.step(params, grads, LEARNING_RATE);
    lossSum += result['loss']!.data[0]!;
    steps += 1;
  }
  if (!Number.isFinite(lossSum)) throw new Error(`training diverged in epoch ${epoch + 1}`);
  process.stdout.write(`epoch ${epoch + 1}: mean loss ${(lossSum / steps).toFixed(4)} (${((Date.now() - start) / 1000).toFixed(0)} s)\n`);
}

const evaluate = target.compile(buildClassifier(BATCH), 'classifier.eval');
let correct = 0;
for (let first = 0; first + BATCH <= test.count; first += BATCH) {
  const indices = Array.from({ length: BATCH }, (_, k) => first + k);
  const logits = (await evaluate.run({ x: test.batch(indices, CLASSIFIER_RES), ...params }))['logits']!;
  indices.forEach((index, k) => {
    const row = Array.from(logits.data.subarray(k * CLASS_COUNT, (k + 1) * CLASS_COUNT));
    if (row.indexOf(Math.max(...row)) === testLabels[index]) correct += 1;
  });
}
const accuracy = correct / test.count;
writeSafetensors(CLASSIFIER_WEIGHTS, params, {
  test_accuracy: String(accuracy),
  trained: `${epochs} epochs of the 60,000 training images, batch ${BATCH}, Adam lr ${LEARNING_RATE}`,
});
process.stdout.write(`test accuracy ${(accuracy * 100).toFixed(2)}% on ${test.count} images; wrote ${CLASSIFIER_WEIGHTS}\n`);
