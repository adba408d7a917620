// Writes the training recipe as a commented TypeScript object literal, one section per group of
// settings in the order a .sgan `train` block lists them, so the generated trainer reads like the
// model file and can be edited by hand.

import type { CodeBlockWriter } from 'ts-morph';

import type { TrainRecipe } from '../model/spec.ts';
import { quote } from './sources.ts';

const FIRST_SECTION = 'Loss';

/** Writes `recipe` as an object literal, with a comment naming each setting and its unit. */
export function writeRecipeLiteral(writer: CodeBlockWriter, recipe: TrainRecipe): void {
  writer.write('').block(() => {
    section(writer, FIRST_SECTION);
    line(writer, 'Non-saturating logistic loss: G minimises softplus(-D(G(z))), D softplus(D(G(z))) + softplus(-D(x)).');
    writer.writeLine(`loss: ${quote(recipe.loss)},`);
    line(writer, 'R1 penalty weight gamma: gamma / 2 * E[|grad_x D(x)|^2] on reals, every step; 0 turns it off.');
    writer.writeLine(`r1Gamma: ${num(recipe.r1Gamma)},`);

    section(writer, 'Optimizer');
    line(writer, 'Adam for G and for D, with moments reset at each new resolution.');
    writer.writeLine(`adam: { beta1: ${num(recipe.adam.beta1)}, beta2: ${num(recipe.adam.beta2)}, eps: ${num(recipe.adam.eps)} },`);
    line(writer, 'Learning rate: `base` unless `perRes` lists the current resolution.');
    writer.writeLine(`lr: { base: ${num(recipe.lr.base)}, perRes: ${perRes(recipe.lr.perRes)} },`);
    line(writer, 'Minibatch size in images: `base` unless `perRes` lists the current resolution.');
    writer.writeLine(`batch: { base: ${num(recipe.batch.base)}, perRes: ${perRes(recipe.batch.perRes)} },`);

    section(writer, 'Progressive growing');
    line(writer, `Start at ${recipe.grow.startRes}x${recipe.grow.startRes}; each resolution trains stableKimg thousand images,`);
    line(writer, 'and each new one first fades in over fadeKimg thousand images (alpha from 0 to 1).');
    writer.writeLine(
      `grow: { startRes: ${num(recipe.grow.startRes)}, stableKimg: ${num(recipe.grow.stableKimg)}, fadeKimg: ${num(recipe.grow.fadeKimg)} },`,
    );

    section(writer, 'Style mixing regularisation');
    line(writer, 'Probability that a minibatch uses two latents with a random crossover style layer.');
    writer.writeLine(`mixingProb: ${num(recipe.mixingProb)},`);

    section(writer, 'Generator averages');
    line(writer, 'Half-life of the generator EMA in thousands of images; 0 turns the EMA off.');
    writer.writeLine(`emaKimg: ${num(recipe.emaKimg)},`);
    line(writer, 'Decay of the running average of w per iteration, used by truncation.');
    writer.writeLine(`wAvgDecay: ${num(recipe.wAvgDecay)},`);

    section(writer, 'Sampling');
    line(writer, 'Truncation for generate.ts: w = w_avg + psi * (w - w_avg) on style layers below cutoff.');
    writer.writeLine(`truncation: { psi: ${num(recipe.truncation.psi)}, cutoff: ${num(recipe.truncation.cutoff)} },`);

    section(writer, 'Augmentation');
    line(writer, 'Whether reals are mirrored left-right at random.');
    writer.writeLine(`mirror: ${recipe.mirror ? 'true' : 'false'},`);
  });
}

function section(writer: CodeBlockWriter, title: string): void {
  if (title !== FIRST_SECTION) writer.blankLineIfLastNot();
  writer.writeLine(`// ${title}`);
}

function line(writer: CodeBlockWriter, text: string): void {
  writer.writeLine(`// ${text}`);
}

function num(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`internal error: recipe value ${value} is not a finite number`);
  return String(value);
}

function perRes(table: Record<number, number>): string {
  const entries = Object.entries(table)
    .map(([res, value]) => [Number(res), value] as const)
    .sort((a, b) => a[0] - b[0]);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([res, value]) => `${res}: ${num(value)}`).join(', ')} }`;
}
