import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard is served by the API (same origin): in `vite dev`, /v1 goes to a running `npm start`.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      // The server's role matrix and tier rules, and the generated API types: one source for both sides.
      '@server': fileURLToPath(new URL('../src', import.meta.url)),
      '@api-types': fileURLToPath(new URL('../sdk/src/generated/api.ts', import.meta.url)),
      '@cli-lib': fileURLToPath(new URL('../cli/src/lib', import.meta.url)),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline <script> or module preload polyfill: the CSP allows scripts from this origin only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: { proxy: { '/v1': 'http://localhost:8080' } },
});
