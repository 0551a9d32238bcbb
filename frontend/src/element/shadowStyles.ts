// The CSS the custom element puts in its shadow root: the editor's (with React Flow's and the date
// picker's, which styles.css imports) and the element's own box.

import editorCss from "../ui/styles.css?inline";
import hostCss from "./host.css?inline";

export const SHADOW_CSS = `${editorCss}\n${hostCss}`;
