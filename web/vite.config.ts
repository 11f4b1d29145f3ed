/** Vite build of the workbench (web/dist, served by `medvox serve`); `npm run dev:web` proxies /api to a server. */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  server: { proxy: { '/api': process.env.MEDVOX_URL ?? 'http://127.0.0.1:8080' } },
});
