// @vitest-environment jsdom
import { act } from "react";
import { createRoot } from "react-dom/client";
import { describe, expect, it } from "vitest";
import { ActionIcon, iconFor, iconImage } from "./nodes";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>';

function render(icon: string | null): HTMLElement {
  const host = document.createElement("div");
  const root = createRoot(host);
  act(() => root.render(<ActionIcon icon={icon} />));
  return host;
}

describe("action icons", () => {
  it("shows a URL or inline SVG as an image, the SVG through a data URL", () => {
    expect(iconImage("https://cdn.example.com/mail.svg")).toBe("https://cdn.example.com/mail.svg");
    expect(iconImage("data:image/png;base64,AAAA")).toBe("data:image/png;base64,AAAA");
    const svg = iconImage(`  ${SVG}`);
    expect(svg).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    expect(decodeURIComponent(svg!.split(",").slice(1).join(","))).toBe(SVG);
    const img = render(SVG).querySelector("img");
    expect(img?.getAttribute("src")).toBe(svg);
    expect(img?.getAttribute("alt")).toBe("");
  });

  it("never treats other text as an image: names become glyphs, short text stays, the rest a letter", () => {
    for (const text of ["mail", "plus", "🚀", "javascript:alert(1)", "<script>x</script>", "x"]) {
      expect(iconImage(text)).toBeNull();
    }
    expect(iconFor("mail")).toBe("✉");
    expect(iconFor("🚀")).toBe("🚀");
    expect(iconFor("database")).toBe("D");
    expect(iconFor(null)).toBe("•");
    const host = render("javascript:alert(1)");
    expect(host.querySelector("img")).toBeNull();
    expect(host.textContent).toBe("J");
  });
});
