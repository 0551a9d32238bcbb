import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The embeddable custom element: one self-contained script (React included) at dist/embed/.
export default defineConfig({
  plugins: [react()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "dist/embed",
    emptyOutDir: true,
    lib: { entry: "src/embed.tsx", name: "WorkflowKitEditor", formats: ["iife"], fileName: () => "workflow-editor.js" },
  },
});
