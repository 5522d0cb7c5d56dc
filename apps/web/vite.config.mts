import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The web console: built into dist/web, which the API serves under `/`. `npm run dev:web` serves it with hot
 * reload and sends the API's paths to the running API (BERTH_URL, default http://127.0.0.1:8080).
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react()],
  resolve: { alias: { '@berth/client': here('../../libs/client/src/index.ts') } },
  build: { outDir: here('../../dist/web'), emptyOutDir: true, chunkSizeWarningLimit: 1024, sourcemap: true },
  server: {
    proxy: Object.fromEntries(
      // ws: the interactive console's WebSocket goes the same way.
      ['/v1', '/healthz'].map((prefix) => [
        prefix,
        { target: process.env['BERTH_URL'] ?? 'http://127.0.0.1:8080', ws: true },
      ]),
    ),
  },
});
