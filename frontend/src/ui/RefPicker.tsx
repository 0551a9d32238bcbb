import { useEffect, useRef, useState } from "react";
import type { RefTarget } from "../refs";

export interface RefGroup {
  title: string;
  targets: RefTarget[];
  hint?: string;
}

export function RefPicker({ groups, onPick, onClose, label }: { groups: RefGroup[]; onPick: (path: string) => void; onClose: () => void; label: string }) {
  const [filter, setFilter] = useState("");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const needle = filter.trim().toLowerCase();
  return (
    <div
      className="wk-picker"
      role="dialog"
      aria-label={`Insert a reference into ${label}`}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <input
        ref={input}
        aria-label="Filter references"
        placeholder="Filter…"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {groups.map((group) => {
        const shown = group.targets.filter((t) => !needle || t.path.toLowerCase().includes(needle) || t.label.toLowerCase().includes(needle));
        return (
          <div key={group.title} role="group" aria-label={group.title}>
            <h4>{group.title}</h4>
            {group.hint && <div className="wk-help">{group.hint}</div>}
            {shown.map((target) => (
              <button
                type="button"
                key={target.path}
                className="wk-target"
                data-ref={target.path}
                onClick={() => onPick(target.path)}
                aria-label={`${target.label} (${target.type})`}
              >
                <span>{target.label}</span>
                <span className="wk-type">{target.type}</span>
              </button>
            ))}
          </div>
        );
      })}
      <button type="button" className="wk-link" onClick={onClose}>Close</button>
    </div>
  );
}
