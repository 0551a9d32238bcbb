// What the canvas's "+" buttons ask the editor for: a new step after a node (on one of its named
// branches, or plainly) or on a connection, between its two ends. A run's read-only canvas has none.

import { createContext, useContext } from "react";

export type AddRequest = { kind: "after"; from: string; edge?: string } | { kind: "between"; from: string; to: string };

export interface CanvasActions {
  /** Open the add-step menu for `request`, beside `anchor` (the button pressed). */
  requestAdd: (request: AddRequest, anchor: HTMLElement) => void;
}

export const CanvasActionsContext = createContext<CanvasActions | null>(null);

export function useCanvasActions(): CanvasActions | null {
  return useContext(CanvasActionsContext);
}
