import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The standalone page served by `workflow-kit serve` at / (dist/index.html).
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  test: { environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
