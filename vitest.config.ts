import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summary-reporter.ts'],
    setupFiles: ['./test/setup.ts'],
    // Starts Xvfb for the headless-gl tests when no display is set.
    globalSetup: ['./test/global-setup-xvfb.ts'],
  },
});
