import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served by the api role at /console/ from dist/console (ADR 0026). No inline script
// or style may end up in index.html: the page's content policy allows 'self' only.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
