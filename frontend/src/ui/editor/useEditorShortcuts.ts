// Undo, redo and save from the keyboard: Ctrl/Cmd+Z, Shift+Ctrl/Cmd+Z (or Ctrl+Y), Ctrl/Cmd+S. They act
// while the focus is in the editor (or on nothing in particular), so a host page keeps its own keys;
// a code editor inside a field (JSON) keeps its own undo. In <workflow-editor>'s shadow root the
// document sees the element as the target: the event's composed path says where it really was.

import { useEffect, type RefObject } from "react";
import { happenedIn, realTarget } from "../eventPath";

export interface Shortcuts {
  undo: () => void;
  redo: () => void;
  save: () => void;
}

export function shortcutOf(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey" | "altKey">): keyof Shortcuts | null {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return null;
  const key = event.key.toLowerCase();
  if (key === "s" && !event.shiftKey) return "save";
  if (key === "z") return event.shiftKey ? "redo" : "undo";
  if (key === "y" && !event.shiftKey) return "redo";
  return null;
}

export function useEditorShortcuts(root: RefObject<HTMLElement | null>, shortcuts: Shortcuts): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const which = shortcutOf(event);
      if (!which) return;
      const target = realTarget(event);
      const inside = happenedIn(event, root.current) || target === document.body || target === document.documentElement;
      if (!inside) return;
      if (which !== "save" && target instanceof Element && target.closest(".cm-editor")) return;
      event.preventDefault();
      shortcuts[which]();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  });
}
