import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The <workflow-editor> script for any page: one self-contained IIFE (React included) at dist/embed/,
// which `workflow-kit serve` serves at /embed/workflow-editor.js. Its CSS is inside it (for the shadow root).
export default defineConfig({
  plugins: [react()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "dist/embed",
    emptyOutDir: true,
    lib: { entry: "src/package/element.ts", name: "WorkflowKitEditor", formats: ["iife"], fileName: () => "workflow-editor.js" },
  },
});
