import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** `pnpm dev` proxies `/trpc` (HTTP and WebSocket) to the server on :3000, as production serves both on one port. */
export default defineConfig({
  plugins: [react()],
  server: { proxy: { '/trpc': { target: 'http://127.0.0.1:3000', ws: true } } },
  build: { sourcemap: true },
});
