// The training recipe. Each setting is checked for range, and a setting the source leaves out takes
// the value of the original StyleGAN training setup, listed in defaultRecipe.
import type { ResMap, TrainSetting } from '../frontend/ast.ts';
import { didYouMean, type Span } from '../frontend/diagnostics.ts';
import type { TrainRecipe } from '../model/spec.ts';
import { readInRange, readInteger, readResolution, type Reporter } from './report.ts';

/** Recipe used for every setting a `train` section omits. */
export function defaultRecipe(): TrainRecipe {
  return {
    loss: 'nonsaturating',
    r1Gamma: 10,
    adam: { beta1: 0, beta2: 0.99, eps: 1e-8 },
    lr: { base: 0.001, perRes: {} },
    // NOTE: StyleGAN (Karras et al., 2019) sets minibatch sizes per resolution only. 32 is this
    // compiler's choice for a model that declares no batch at all.
    batch: { base: 32, perRes: {} },
    grow: { startRes: 8, stableKimg: 600, fadeKimg: 600 },
    mixingProb: 0.9,
    emaKimg: 10,
    wAvgDecay: 0.995,
    truncation: { psi: 0.7, cutoff: 8 },
    mirror: false,
  };
}

const losses = ['nonsaturating'];
const switches: Record<string, boolean> = { on: true, off: false };

/** Reads the settings over the defaults. `stages` lists the model's synthesis resolutions. */
export function buildRecipe(settings: TrainSetting[], stages: number[], report: Reporter): TrainRecipe {
  const recipe = defaultRecipe();
  const seen = new Map<string, Span>();
  for (const setting of settings) {
    const first = seen.get(setting.kind);
    if (first !== undefined) {
      report.error(
        setting.span,
        'E033',
        `'${setting.kind}' is set twice in the training recipe; the first is at line ${first.line}`,
      );
      continue;
    }
    seen.set(setting.kind, setting.span);
    applySetting(recipe, setting, stages, report);
  }
  return recipe;
}

function applySetting(recipe: TrainRecipe, setting: TrainSetting, stages: number[], report: Reporter): void {
  switch (setting.kind) {
    case 'loss':
      if (!losses.includes(setting.name)) {
        const hint = didYouMean(setting.name, losses) ?? `supported losses: ${losses.join(', ')}`;
        report.error(setting.nameSpan, 'E051', `unknown loss '${setting.name}'`, hint);
      }
      return;
    case 'r1':
      recipe.r1Gamma = readInRange(report, setting.gamma, 'the R1 gamma', { min: 0 }) ?? recipe.r1Gamma;
      return;
    case 'adam':
      recipe.adam = {
        beta1: readInRange(report, setting.beta1, 'Adam beta1', { min: 0, max: 1, maxOpen: true }) ?? recipe.adam.beta1,
        beta2: readInRange(report, setting.beta2, 'Adam beta2', { min: 0, max: 1, maxOpen: true }) ?? recipe.adam.beta2,
        eps: readInRange(report, setting.eps, 'Adam epsilon', { min: 0, minOpen: true }) ?? recipe.adam.eps,
      };
      return;
    case 'lr': {
      const base = readInRange(report, setting.base, 'the learning rate', { min: 0, minOpen: true }) ?? recipe.lr.base;
      const perRes = readPerRes(
        setting.perRes,
        stages,
        'a learning rate',
        report,
        (v) => readInRange(report, v, 'a learning rate', { min: 0, minOpen: true }),
      );
      recipe.lr = { base, perRes };
      return;
    }
    case 'batch': {
      const perRes = readPerRes(
        setting.perRes,
        stages,
        'a minibatch size',
        report,
        (v) => readInteger(report, v, 'a minibatch size'),
      );
      let base: number | undefined;
      if (setting.base !== undefined) base = readInteger(report, setting.base, 'the minibatch size');
      else {
        // Resolutions above the map's last entry keep its size.
        const keys = Object.keys(perRes).map(Number);
        base = keys.length === 0 ? undefined : perRes[Math.max(...keys)];
      }
      recipe.batch = { base: base ?? recipe.batch.base, perRes };
      return;
    }
    case 'grow': {
      const startRes = readResolution(report, setting.from, 'the starting resolution');
      if (startRes !== undefined && !stages.includes(startRes)) {
        report.error(
          setting.from.span,
          'E042',
          `the starting resolution ${startRes} is not a stage of the model (${stages.join(', ')})`,
        );
      }
      recipe.grow = {
        startRes: startRes ?? recipe.grow.startRes,
        stableKimg: (readInRange(report, setting.stable, 'the images per stable phase', { min: 0 }) ?? 0) / 1000,
        fadeKimg: (readInRange(report, setting.fade, 'the images per fade phase', { min: 0 }) ?? 0) / 1000,
      };
      return;
    }
    case 'mixing':
      recipe.mixingProb =
        readInRange(report, setting.prob, 'the style mixing probability', { min: 0, max: 1 }) ?? recipe.mixingProb;
      return;
    case 'ema':
      recipe.emaKimg = (readInRange(report, setting.images, 'the EMA half-life', { min: 0 }) ?? recipe.emaKimg * 1000) / 1000;
      return;
    case 'wavg':
      recipe.wAvgDecay = readInRange(report, setting.decay, 'the w_avg decay', { min: 0, max: 1 }) ?? recipe.wAvgDecay;
      return;
    case 'truncation': {
      const psi = readInRange(report, setting.psi, 'the truncation psi', {});
      const cutoff = readInteger(report, setting.cutoff, 'the truncation cutoff', 0);
      recipe.truncation = { psi: psi ?? recipe.truncation.psi, cutoff: cutoff ?? recipe.truncation.cutoff };
      return;
    }
    case 'mirror': {
      const value = switches[setting.setting];
      if (value === undefined) {
        report.error(
          setting.settingSpan,
          'E051',
          `mirror must be 'on' or 'off', found '${setting.setting}'`,
          didYouMean(setting.setting, Object.keys(switches)),
        );
        return;
      }
      recipe.mirror = value;
      return;
    }
  }
}

function readPerRes(
  map: ResMap | undefined,
  stages: number[],
  settingName: string,
  report: Reporter,
  read: (value: ResMap['entries'][number]['value']) => number | undefined,
): Record<number, number> {
  const perRes: Record<number, number> = {};
  for (const entry of map?.entries ?? []) {
    const res = readResolution(report, entry.key, 'a resolution');
    const value = read(entry.value);
    if (res === undefined || value === undefined) continue;
    if (perRes[res] !== undefined) {
      report.error(entry.key.span, 'E033', `resolution ${res} has ${settingName} twice`);
      continue;
    }
    if (!stages.includes(res)) {
      report.warning(
        entry.key.span,
        'W001',
        `resolution ${res} is not a stage of the model, so ${settingName} for it is never used`,
      );
    }
    perRes[res] = value;
  }
  return perRes;
}
