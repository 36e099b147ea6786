import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// In development (npm run dev) the APIs are proxied the way the gateway and nginx route
// them in production: /intake/, /workflow/, /notify/ prefixes, stripped before the service.
const service = (port: number, prefix: string) => ({
  target: `http://127.0.0.1:${port}`,
  changeOrigin: true,
  rewrite: (path: string) => path.replace(new RegExp(`^/${prefix}`), ""),
});

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      "/intake/": service(8001, "intake"),
      "/workflow/": service(8002, "workflow"),
      "/notify/": service(8003, "notify"),
    },
  },
  build: { sourcemap: false, chunkSizeWarningLimit: 900 },
});
