import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import ElementPlus from 'unplugin-element-plus/vite'
import { defineConfig } from 'vite'

// The API runs on PORT (3000); `npm run dev:web` proxies to it. Production serves dist/ from Fastify.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Each `import { ElX } from 'element-plus'` brings in that component's stylesheet only, so a page
  // loads the Element Plus CSS it uses instead of the whole sheet.
  plugins: [vue(), ElementPlus()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The manifest says which files index.html loads eagerly; a test holds that to a budget.
    manifest: true,
    chunkSizeWarningLimit: 2500,
    rolldownOptions: {
      output: {
        // MapLibre is most of the map page's weight: one chunk of its own, which the first-load
        // budget test names, loaded only by the pages that draw a map.
        codeSplitting: { groups: [{ name: 'maplibre', test: /[\\/]node_modules[\\/]maplibre-gl[\\/]/ }] },
      },
    },
  },
  server: {
    proxy: { '/api': `http://127.0.0.1:${process.env.PORT || 3000}` },
  },
})
