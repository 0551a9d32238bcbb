import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The React component for React hosts (an ES module; the host provides React).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist/react",
    emptyOutDir: true,
    lib: { entry: "src/embed.tsx", formats: ["es"], fileName: () => "workflow-editor.mjs" },
    rollupOptions: { external: ["react", "react-dom", "react-dom/client", "react/jsx-runtime"] },
  },
});
