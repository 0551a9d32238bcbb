import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import pkg from "./package.json" with { type: "json" };

// The npm package @workflow-kit/editor (lib/, which `npm pack` packs): ES modules of the React component
// (index.js) and of the custom element (element.js), one style.css, and (tsconfig.lib.json) declarations.
// React and every other runtime dependency stay imports: the host's bundler resolves them.
const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)];

/** A runtime dependency (or a module of one), except its CSS, which goes into style.css. */
function isExternal(id: string): boolean {
  if (/\.css($|\?)/.test(id)) return false;
  return external.some((name) => id === name || id.startsWith(`${name}/`));
}

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "lib",
    emptyOutDir: true,
    copyPublicDir: false,
    cssCodeSplit: true, // style.css comes from its own entry (the JS imports CSS only as text, for the element)
    sourcemap: true,
    lib: { entry: { index: "src/package/index.ts", element: "src/package/element.ts", style: "src/ui/styles.css" }, formats: ["es"] },
    rolldownOptions: { external: isExternal, output: { chunkFileNames: "chunks/[name]-[hash].js" } },
  },
});
