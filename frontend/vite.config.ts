import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The standalone page served by `workflow-kit serve` at / (dist/index.html).
export default defineConfig({
  plugins: [react()],
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  // Tests run in Node; a test file that renders components says `// @vitest-environment jsdom` first.
  // The files share child processes and their module cache (isolate: false): 12 s instead of 31 s on two
  // cores, so each test cleans up what it changes (cleanup(), vi.unstubAllEnvs(), vi.unstubAllGlobals()).
  // Processes, not threads: a test that sets TZ needs its own process's clock.
  test: { environment: "node", include: ["src/**/*.test.ts", "src/**/*.test.tsx"], pool: "forks", isolate: false },
});
