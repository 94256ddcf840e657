// The edge is reached through the preview server (same origin), as an app served beside it would.
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const edge = process.env.VIVIM_EDGE ?? 'http://127.0.0.1:8787'

export default defineConfig({
  plugins: [react()],
  preview: { proxy: { '/v1': { target: edge, ws: true } } },
})
