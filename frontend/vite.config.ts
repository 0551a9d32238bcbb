import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The standalone page served by `workflow-kit serve` at / (dist/index.html).
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  // tests run in Node; a test file that renders components says `// @vitest-environment jsdom` first
  test: { environment: "node", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
