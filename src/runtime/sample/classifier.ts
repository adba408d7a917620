// A small Fashion-MNIST classifier whose penultimate activations are the feature space of the Frechet
// distance in `sganc metrics`. It is built, trained and run with this project's own IR, autodiff and
// targets. It is not the Inception network of the FID paper, so its numbers compare only with each other.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { gradients } from '../../autodiff/gradients.ts';
import { Builder } from '../../ir/builder.ts';
import type { Graph, NodeId } from '../../ir/graph.ts';
import { Rng } from '../rng.ts';
import { readSafetensors } from '../safetensors.ts';
import { tensor, type TensorMap } from '../tensor.ts';

/** Side of the input images: Fashion-MNIST's 28x28 frames padded to 32x32, as the data loader does. */
export const CLASSIFIER_RES = 32;
/** Layer widths: input pixels, two hidden layers (the second gives the features), then the 10 classes. */
export const CLASSIFIER_WIDTHS = [CLASSIFIER_RES * CLASSIFIER_RES, 256, 64, 10] as const;
export const FEATURE_DIM = CLASSIFIER_WIDTHS[2];
export const CLASS_COUNT = CLASSIFIER_WIDTHS[3];

/** The shipped weights, written by train-classifier.ts. */
export const CLASSIFIER_WEIGHTS = fileURLToPath(new URL('./fashion-classifier.safetensors', import.meta.url));

/** Returns He-normal weights `dense<i>.weight` [in, out] and zero biases `dense<i>.bias` [out]. */
export function initClassifier(seed: number): TensorMap {
  const rng = new Rng(seed);
  const params: TensorMap = {};
  for (let i = 0; i + 1 < CLASSIFIER_WIDTHS.length; i++) {
    const fanIn = CLASSIFIER_WIDTHS[i]!;
    const fanOut = CLASSIFIER_WIDTHS[i + 1]!;
    const weight = tensor([fanIn, fanOut], rng.normals(fanIn * fanOut));
    const std = Math.sqrt(2 / fanIn);
    for (let k = 0; k < weight.data.length; k++) weight.data[k]! *= std;
    params[`dense${i}.weight`] = weight;
    params[`dense${i}.bias`] = tensor([fanOut]);
  }
  return params;
}

/** Emits the network on `x` [N, 1, 32, 32] in [-1, 1]; returns the features [N, 64] and logits [N, 10]. */
function emitClassifier(b: Builder, x: NodeId, batch: number): { features: NodeId; logits: NodeId } {
  let h = b.reshape(x, [batch, CLASSIFIER_WIDTHS[0]]);
  let features = h;
  for (let i = 0; i + 1 < CLASSIFIER_WIDTHS.length; i++) {
    const weight = b.param(`dense${i}.weight`, [CLASSIFIER_WIDTHS[i]!, CLASSIFIER_WIDTHS[i + 1]!]);
    const bias = b.param(`dense${i}.bias`, [CLASSIFIER_WIDTHS[i + 1]!]);
    h = b.add(b.matmul(h, weight), bias);
    if (i + 2 < CLASSIFIER_WIDTHS.length) h = b.unary('lrelu', h, 0.2);
    if (i === 1) features = h;
  }
  return { features, logits: h };
}

/** Builds the feature program: input `x` [N, 1, 32, 32], outputs `features` [N, 64] and `logits` [N, 10]. */
export function buildClassifier(batch: number): Graph {
  const b = new Builder();
  const { features, logits } = emitClassifier(b, b.input('x', [batch, 1, CLASSIFIER_RES, CLASSIFIER_RES]), batch);
  b.output('features', features);
  b.output('logits', logits);
  return b.graph;
}

/**
 * Builds one training step: inputs `x` and one-hot `labels` [N, 10]; outputs `loss` [], the mean
 * softmax cross-entropy, and `grad.<name>` for every parameter.
 */
export function buildClassifierStep(batch: number): Graph {
  const b = new Builder();
  const labels = b.input('labels', [batch, CLASS_COUNT]);
  const { logits } = emitClassifier(b, b.input('x', [batch, 1, CLASSIFIER_RES, CLASSIFIER_RES]), batch);
  // NOTE: log-sum-exp without the max shift. The logits of this small network stay far below the
  // float32 overflow of exp (about 88), which the training script's finite loss confirms.
  const logSumExp = b.unary('log', b.sum(b.unary('exp', logits), [1]));
  const picked = b.sum(b.mul(labels, logits), [1]);
  const loss = b.mean(b.sub(logSumExp, picked), [0]);
  b.output('loss', loss);
  const params = [...b.graph.params()];
  const grads = gradients(b, loss, params.map(([, id]) => id));
  params.forEach(([name], i) => b.output(`grad.${name}`, grads[i]!));
  return b.graph;
}

/** Reads the shipped classifier weights and the test accuracy recorded with them. */
export function loadClassifier(path = CLASSIFIER_WEIGHTS): { params: TensorMap; testAccuracy: number } {
  if (!existsSync(path)) throw new Error(`classifier weights ${path} not found; run src/runtime/sample/train-classifier.ts`);
  const { tensors, metadata } = readSafetensors(path);
  return { params: tensors, testAccuracy: Number(metadata['test_accuracy']) };
}

/** Reads the labels of a Fashion-MNIST idx1 file (gzip). */
export function readIdxLabels(path: string): Uint8Array {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== 0x801) throw new Error(`${path}: not an idx1 label file (magic ${view.getUint32(0).toString(16)})`);
  const count = view.getUint32(4);
  return bytes.subarray(8, 8 + count);
}
