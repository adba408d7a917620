// One .sgan file per user error, with the exact diagnostic text beside it in a .expected file.
// Set SGANC_UPDATE_GOLDEN=1 to rewrite the .expected files from the current output, then review the
// diff before committing it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkFile } from '../../src/check/index.ts';
import { formatDiagnostics } from '../../src/frontend/diagnostics.ts';

const folder = fileURLToPath(new URL('.', import.meta.url));
const fixtures = readdirSync(folder)
  .filter((name) => name.endsWith('.sgan'))
  .sort();
const update = process.env['SGANC_UPDATE_GOLDEN'] === '1';

describe('error fixtures', () => {
  it('cover at least 25 distinct codes', () => {
    const codes = new Set(fixtures.map((name) => /^([EW]\d{3})-/.exec(name)?.[1]).filter((code) => code !== undefined));
    expect(codes.size).toBeGreaterThanOrEqual(25);
  });

  for (const name of fixtures) {
    it(name, () => {
      // Diagnostics name files relative to the working directory, as the CLI does.
      const path = relative(process.cwd(), `${folder}${name}`);
      const result = checkFile(path);
      const actual = formatDiagnostics(result.diagnostics, result.sources);
      const expectedPath = `${folder}${name.replace(/\.sgan$/, '.expected')}`;
      if (update) writeFileSync(expectedPath, actual);
      expect(actual).toBe(readFileSync(expectedPath, 'utf8'));

      const hasError = result.diagnostics.some((d) => d.severity === 'error');
      expect(result.spec === undefined).toBe(hasError);
      const code = /^([EW]\d{3})-/.exec(name)?.[1];
      if (code !== undefined) expect(result.diagnostics.map((d) => d.code)).toContain(code);
    });
  }
});
