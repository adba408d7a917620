// Vite configuration of the playground. The compiler front end imports a few Node built-ins at
// module level (fs, path, url, util). The aliases below swap them for small browser modules, so the
// same source files run in the page. `sganc serve` and the browser tests build with this file.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const shim = (name: string): string => fileURLToPath(new URL(`./src/shims/${name}.ts`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: /^(node:)?fs$/, replacement: shim('fs') },
      { find: /^(node:)?path$/, replacement: shim('path') },
      { find: /^(node:)?url$/, replacement: shim('url') },
      { find: /^(node:)?util$/, replacement: shim('util') },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
  server: { host: '127.0.0.1' },
});
