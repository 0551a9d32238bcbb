// The template gallery's logic: which templates a search and a tag show, the tags to offer, and a small
// picture of a template's graph (boxes laid out as the canvas lays them out, scaled down).

import { layout, NODE_HEIGHT, NODE_WIDTH } from "./flow";
import { actionTitle, type Catalog } from "./names";
import { SOURCE, type TemplateDef, type Workflow } from "./types";

/** The templates whose name, description or tags hold every word of `query`, with `tag` if one is chosen. */
export function filterTemplates(templates: TemplateDef[], query: string, tag: string | null): TemplateDef[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return templates.filter((template) => {
    if (tag && !template.tags.includes(tag)) return false;
    const text = `${template.name} ${template.description} ${template.tags.join(" ")}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
}

/** Every tag, once, in the order the templates first use them. */
export function allTags(templates: TemplateDef[]): string[] {
  return [...new Set(templates.flatMap((t) => t.tags))];
}

export interface Preview {
  width: number;
  height: number;
  nodes: Array<{ id: string; label: string; x: number; y: number; width: number; height: number; trigger: boolean }>;
  edges: Array<{ from: string; x1: number; y1: number; x2: number; y2: number }>;
}

/** The graph as boxes and lines inside `width` x `height` (the trigger first, as on the canvas). */
export function previewOf(workflow: Workflow, catalog: Catalog, width = 280, height = 150): Preview {
  const positions = layout(workflow);
  const ids = [SOURCE, ...workflow.actions.map((a) => a.id)].filter((id) => positions[id]);
  if (!ids.length) return { width, height, nodes: [], edges: [] };
  const xs = ids.map((id) => positions[id].x);
  const ys = ids.map((id) => positions[id].y);
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  const spanX = Math.max(...xs) - left + NODE_WIDTH;
  const spanY = Math.max(...ys) - top + NODE_HEIGHT;
  const scale = Math.min((width - 8) / spanX, (height - 8) / spanY, 0.5);
  const offsetX = (width - spanX * scale) / 2;
  const offsetY = (height - spanY * scale) / 2;
  const box = (id: string) => ({
    x: offsetX + (positions[id].x - left) * scale,
    y: offsetY + (positions[id].y - top) * scale,
    width: NODE_WIDTH * scale,
    height: NODE_HEIGHT * scale,
  });
  const byId = new Map(workflow.actions.map((a) => [a.id, a]));
  const nodes = ids.map((id) => {
    const action = byId.get(id);
    return { id, label: action ? actionTitle(action, catalog.get(action.kind)) : "Trigger", ...box(id), trigger: id === SOURCE };
  });
  const edges = workflow.edges
    .filter((e) => positions[e.from] && positions[e.to])
    .map((e) => {
      const a = box(e.from);
      const b = box(e.to);
      return { from: e.from, x1: a.x + a.width / 2, y1: a.y + a.height, x2: b.x + b.width / 2, y2: b.y };
    });
  return { width, height, nodes, edges };
}
