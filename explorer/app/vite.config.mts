/**
 * The explorer's web app (explorer/app/README.md). `vite explorer/app` serves it for development, `npm run
 * explorer:build` writes build/explorer-app, and scripts/apps/explorer/app.ts serves that build (Vite's preview).
 * Both proxy /api to the indexer at EXPLORER_API_URL, so the page only ever talks to its own origin.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const DEFAULT_API_URL = "http://127.0.0.1:42069";
const api = { "/api": { target: process.env.EXPLORER_API_URL ?? DEFAULT_API_URL, changeOrigin: true } };

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../../build/explorer-app", import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  // the app imports the SDK from scripts/chain (two folders up)
  server: { proxy: api, fs: { allow: [fileURLToPath(new URL("../..", import.meta.url))] } },
  preview: { proxy: api },
});
