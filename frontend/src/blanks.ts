// Blanks: inputs a template leaves for the user to fill in. A step lists them in its `to_fill` key
// ({input name: question}) and leaves the input out; the server reports each one still empty as a
// `blank` problem (so such a draft cannot be published). The editor walks the user through them, one by
// one, before the first save; a mark whose input has a value is inert.

import { everyAction } from "./scopes";
import type { Json, Workflow, WorkflowAction } from "./types";

export const TO_FILL = "to_fill";

export interface Blank {
  actionId: string;
  input: string;
  question: string;
}

function marks(action: WorkflowAction): Record<string, string> {
  const raw = action[TO_FILL] as Json | undefined;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  return Object.fromEntries(Object.entries(raw).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

function empty(value: Json | undefined): boolean {
  return value === undefined || value === null || value === "";
}

/** The inputs still to fill, in the order of the steps (loops' steps included). */
export function openBlanks(workflow: Workflow): Blank[] {
  const found: Blank[] = [];
  for (const { action } of everyAction(workflow)) {
    for (const [input, question] of Object.entries(marks(action))) {
      if (empty(action.inputs?.[input])) found.push({ actionId: action.id, input, question });
    }
  }
  return found;
}

/** "Fill in 2 things before saving" / "Fill in 1 thing before saving". */
export function blanksHeading(count: number): string {
  return `Fill in ${count} ${count === 1 ? "thing" : "things"} before saving`;
}
