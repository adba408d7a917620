// Suggestions for misspelt option and command names in usage errors.

import { describe, expect, it } from 'vitest';
import { closestName, describeParseError } from '../../src/runtime/train/options.ts';

const TRAIN = ['data', 'kimg', 'tick-kimg', 'snapshot-ticks', 'keep-checkpoints', 'metrics-ticks', 'metrics-samples', 'seed', 'out', 'port'];

describe('closestName', () => {
  it('suggests close misspellings', () => {
    const cases: [string, string][] = [
      ['kimgs', 'kimg'],
      ['metric-ticks', 'metrics-ticks'],
      ['seeed', 'seed'],
      ['prot', 'port'],
      ['snapshot', 'snapshot-ticks'],
      ['dta', 'data'],
    ];
    for (const [typed, expected] of cases) expect(closestName(typed, TRAIN), typed).toBe(expected);
  });

  it('suggests nothing for distant names', () => {
    for (const typed of ['zzz', 'k', 'metrics', 'resolution', 'ou-t-x']) expect(closestName(typed, TRAIN), typed).toBeUndefined();
  });

  it('limits short names to one edit', () => {
    // 'kmgx' is two edits from 'kimg', too many for 4 letters; 'kimgxx' is two edits but 6 letters.
    expect(closestName('kmgx', TRAIN)).toBeUndefined();
    expect(closestName('kimgxx', TRAIN)).toBe('kimg');
  });
});

describe('describeParseError', () => {
  it('adds the suggestion to unknown options', () => {
    const error = new TypeError("Unknown option '--kimgs'. To specify a positional argument starting with a '-', place it at the end");
    expect(describeParseError(error, TRAIN)).toBe("unknown option '--kimgs'; did you mean '--kimg'?");
    expect(describeParseError(error)).toBe("unknown option '--kimgs'");
  });

  it('leaves short options alone', () => {
    const error = new TypeError("Unknown option '-k'. To specify a positional argument starting with a '-', place it at the end");
    expect(describeParseError(error, TRAIN)).toBe("unknown option '-k'");
  });
});
