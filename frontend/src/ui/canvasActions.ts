// What the canvas's "+" buttons ask the editor for: a new step after a node (on one of its named
// branches, plainly, or to run when it fails), on a connection between its two ends, or inside a loop. A run's read-only canvas has none.

import { createContext, useContext } from "react";

export type AddRequest =
  /** After a node: on one of its named branches, or plainly, or (`failure`) to run when it fails. */
  | { kind: "after"; from: string; edge?: string; failure?: boolean }
  /** On the connection from -> to. */
  | { kind: "between"; from: string; to: string }
  /** The first step inside a loop (at its start), or one more step from its start. */
  | { kind: "start"; loop: string };

export interface CanvasActions {
  /** Open the add-step menu for `request`, beside `anchor` (the button pressed). */
  requestAdd: (request: AddRequest, anchor: HTMLElement) => void;
}

export const CanvasActionsContext = createContext<CanvasActions | null>(null);

export function useCanvasActions(): CanvasActions | null {
  return useContext(CanvasActionsContext);
}
