import { useState } from "react";
import type { ActionDef } from "../types";
import { DRAG_TYPE } from "./Canvas";
import { ActionIcon } from "./nodes";

export function Palette({ actions, onAdd }: { actions: ActionDef[]; onAdd: (kind: string) => void }) {
  const [search, setSearch] = useState("");
  const needle = search.trim().toLowerCase();
  const shown = actions.filter(
    (a) => !needle || a.name.toLowerCase().includes(needle) || a.kind.toLowerCase().includes(needle) || a.description.toLowerCase().includes(needle),
  );
  return (
    <nav className="wk-palette" aria-label="Actions">
      <label className="wk-visually-hidden" htmlFor="wk-palette-search">Search actions</label>
      <input id="wk-palette-search" placeholder="Search actions…" value={search} onChange={(e) => setSearch(e.target.value)} />
      <div className="wk-help" style={{ marginBottom: 8 }}>Drag onto the canvas, or press Enter to add after the selected node.</div>
      {shown.map((action) => (
        <button
          type="button"
          key={action.kind}
          className="wk-palette-item"
          draggable
          data-kind={action.kind}
          onDragStart={(event) => {
            event.dataTransfer.setData(DRAG_TYPE, action.kind);
            event.dataTransfer.effectAllowed = "copy";
          }}
          onClick={() => onAdd(action.kind)}
          aria-label={`Add ${action.name}: ${action.description}`}
        >
          <span className="wk-icon" aria-hidden="true"><ActionIcon icon={action.icon} /></span>
          <span>
            {action.name}
            <small>{action.description}</small>
          </span>
        </button>
      ))}
      {shown.length === 0 && <div className="wk-help">No action matches.</div>}
    </nav>
  );
}
