// Programs for `sganc eval`: one network at one stage, with optional gradients of the sum of its
// outputs or, for the discriminator, the R1 penalty and its parameter gradients.

import { gradients } from '../autodiff/gradients.ts';
import { Builder } from '../ir/builder.ts';
import type { Graph, NodeId } from '../ir/graph.ts';
import type { ModelSpec } from '../model/spec.ts';
import type { LayerContext, NoiseMode } from './context.ts';
import { checkStage, discriminatorNetwork, mappingNetwork, styleLayersAt, synthesisNetwork } from './networks.ts';
import { r1Penalty } from './programs.ts';

export const EVAL_NETWORKS = ['mapping', 'synthesis', 'generator', 'discriminator'] as const;
export type EvalNetwork = (typeof EVAL_NETWORKS)[number];

export interface EvalRequest {
  network: EvalNetwork;
  /** Ignored for the mapping network. */
  stage: number;
  batch: number;
  /** Whether the newest stage is fading in; adds the scalar input `alpha`. */
  fading: boolean;
  /** Synthesis and generator only; 'random' adds the scalar input `noise_key`. */
  noise: Exclude<NoiseMode, 'none'>;
  /** Synthesis only: one input `w` for every style layer, or one `style{i}` per style layer. */
  styles: 'w' | 'per-layer';
  /** Adds `grad.<name>` of the sum of all outputs for every parameter and every float input. */
  grad: boolean;
  /** Discriminator only: adds `r1` and its gradient `grad.<name>` for every parameter. */
  r1: boolean;
}

/**
 * Builds the eval program. The main input is `z` (mapping, generator), `w` or `style{i}` (synthesis)
 * or `x` (discriminator). The generator maps `z` once and feeds that w to every style layer.
 * Fading adds `alpha`, and synthesis and generator take noise as buildSynthesis does.
 * Outputs are `w`, `image` or `logits`, plus the requested gradients. The `r1` output is the sum over
 * the batch of ||d sum(logits) / dx||^2, without the gamma / 2 factor of the training loss.
 */
export function buildEvalProgram(spec: ModelSpec, request: EvalRequest): Graph {
  if (request.network !== 'mapping') checkStage(spec, request.stage, request.fading);
  if (request.r1 && request.network !== 'discriminator') throw new Error('internal error: r1 needs the discriminator');
  if (request.r1 && request.grad) throw new Error('internal error: grad and r1 both write grad.<name>');

  const b = new Builder();
  const outputs = emitNetwork(b, spec, request);
  for (const [name, id] of outputs) b.output(name, id);

  if (request.r1) {
    const x = b.graph.inputs().get('x')!;
    const r1 = r1Penalty(b, outputs.get('logits')!, x, 1);
    b.output('r1', r1);
    emitGradients(b, r1, [...b.graph.params()]);
  } else if (request.grad) {
    const total = [...outputs.values()].map((id) => b.sum(id, [...b.shape(id).keys()])).reduce((s, v) => b.add(s, v));
    const inputs = [...b.graph.inputs()].filter(([name]) => name !== 'noise_key');
    emitGradients(b, total, [...b.graph.params(), ...inputs]);
  }
  return b.graph;
}

function emitNetwork(b: Builder, spec: ModelSpec, request: EvalRequest): Map<string, NodeId> {
  const n = request.batch;
  const plain: LayerContext = { b, spec, batch: n, noise: 'none' };
  switch (request.network) {
    case 'mapping':
      return new Map([['w', mappingNetwork(plain, b.input('z', [n, spec.zDim]))]]);
    case 'generator': {
      const w = mappingNetwork(plain, b.input('z', [n, spec.zDim]));
      return new Map([['image', emitSynthesis(b, spec, request, () => w)]]);
    }
    case 'synthesis': {
      const style =
        request.styles === 'w'
          ? () => b.input('w', [n, spec.wDim])
          : (i: number) => b.input(`style${i}`, [n, spec.wDim]);
      for (const i of styleLayersAt(spec, request.stage)) style(i);
      return new Map([['image', emitSynthesis(b, spec, request, style)]]);
    }
    case 'discriminator': {
      const x = b.input('x', [n, spec.imageChannels, request.stage, request.stage]);
      const alpha = request.fading ? b.input('alpha', []) : undefined;
      return new Map([['logits', discriminatorNetwork(plain, x, request.stage, alpha)]]);
    }
  }
}

function emitSynthesis(b: Builder, spec: ModelSpec, request: EvalRequest, style: (i: number) => NodeId): NodeId {
  const ctx: LayerContext = {
    b,
    spec,
    batch: request.batch,
    noise: request.noise,
    noiseKey: request.noise === 'random' ? b.input('noise_key', []) : undefined,
    style,
  };
  const alpha = request.fading ? b.input('alpha', []) : undefined;
  return synthesisNetwork(ctx, request.stage, alpha);
}

function emitGradients(b: Builder, y: NodeId, wrt: [string, NodeId][]): void {
  const grads = gradients(b, y, wrt.map(([, id]) => id));
  wrt.forEach(([name], i) => b.output(`grad.${name}`, grads[i]!));
}
