import { describe, expect, it } from "vitest";
import { shortcutOf } from "./useEditorShortcuts";

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}) => ({
  key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods,
});

describe("keyboard shortcuts", () => {
  it("maps Ctrl/Cmd+Z, Shift+Ctrl/Cmd+Z, Ctrl+Y and Ctrl/Cmd+S", () => {
    expect(shortcutOf(key("z", { ctrlKey: true }))).toBe("undo");
    expect(shortcutOf(key("z", { metaKey: true }))).toBe("undo");
    expect(shortcutOf(key("Z", { ctrlKey: true, shiftKey: true }))).toBe("redo");
    expect(shortcutOf(key("y", { ctrlKey: true }))).toBe("redo");
    expect(shortcutOf(key("s", { metaKey: true }))).toBe("save");
    expect(shortcutOf(key("z"))).toBeNull();
    expect(shortcutOf(key("z", { ctrlKey: true, altKey: true }))).toBeNull();
  });
});
