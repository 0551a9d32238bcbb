import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The standalone page served by `workflow-kit serve` at / (dist/index.html).
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  test: { environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
