// The add-step menu the canvas's "+" buttons open: a search box over the catalog, flow control first,
// then the product's own actions. Arrow keys move, Enter adds, Escape closes (focus goes back to "+").

import { useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import type { ActionDef } from "../../types";
import { happenedIn } from "../eventPath";
import { ActionIcon } from "../nodes";

export interface AddStepMenuProps {
  /** The menu's name: "Add a step after Trigger", "Add a step between A and B". */
  title: string;
  catalog: ActionDef[];
  /** The button that opened it: the menu sits beside it, and focus returns to it on close. */
  anchor: HTMLElement | null;
  onPick: (kind: string) => void;
  onClose: () => void;
}

const WIDTH = 320;

/** Builtins (flow control) first, then the product's actions; each group in catalog order. */
export function menuGroups(catalog: ActionDef[], search: string): Array<{ title: string; actions: ActionDef[] }> {
  const needle = search.trim().toLowerCase();
  const shown = catalog.filter(
    (a) => !needle || a.name.toLowerCase().includes(needle) || a.description.toLowerCase().includes(needle),
  );
  const control = shown.filter((a) => a.kind.startsWith("builtin:"));
  const own = shown.filter((a) => !a.kind.startsWith("builtin:"));
  return [
    { title: "Actions", actions: own },
    { title: "Flow control", actions: control },
  ].filter((g) => g.actions.length > 0);
}

export function AddStepMenu({ title, catalog, anchor, onPick, onClose }: AddStepMenuProps) {
  const [search, setSearch] = useState("");
  const [active, setActive] = useState(0);
  const [place, setPlace] = useState<{ left: number; top: number }>({ left: 0, top: 0 });
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  const groups = menuGroups(catalog, search);
  const flat = groups.flatMap((g) => g.actions);
  const current = Math.min(active, Math.max(0, flat.length - 1));

  useLayoutEffect(() => {
    const rect = anchor?.getBoundingClientRect();
    const height = box.current?.offsetHeight ?? 360;
    const left = rect ? Math.min(rect.right + 8, window.innerWidth - WIDTH - 8) : (window.innerWidth - WIDTH) / 2;
    const top = rect ? Math.min(Math.max(8, rect.top - 40), window.innerHeight - height - 8) : 80;
    setPlace({ left: Math.max(8, left), top: Math.max(8, top) });
  }, [anchor]);
  useEffect(() => input.current?.focus(), []);

  const close = () => {
    onClose();
    if (anchor?.isConnected) anchor.focus();
  };
  useEffect(() => {
    const outside = (event: MouseEvent) => {
      if (box.current && !happenedIn(event, box.current, anchor)) onClose();
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [anchor, onClose]);

  const optionId = (index: number) => `${id}-option-${index}`;
  return (
    <div
      ref={box}
      className="wk-add-menu"
      role="dialog"
      aria-label={title}
      style={{ left: place.left, top: place.top, width: WIDTH }}
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          close();
        } else if (event.key === "ArrowDown") {
          event.preventDefault();
          setActive((current + 1) % Math.max(1, flat.length));
        } else if (event.key === "ArrowUp") {
          event.preventDefault();
          setActive((current - 1 + flat.length) % Math.max(1, flat.length));
        } else if (event.key === "Enter" && flat[current]) {
          event.preventDefault();
          onPick(flat[current].kind);
        }
      }}
    >
      <div className="wk-add-menu-title">{title}</div>
      <input
        ref={input}
        type="search"
        aria-label="Search steps"
        placeholder="Search steps…"
        value={search}
        role="combobox"
        aria-expanded="true"
        aria-controls={`${id}-list`}
        aria-activedescendant={flat.length ? optionId(current) : undefined}
        onChange={(event) => {
          setSearch(event.target.value);
          setActive(0);
        }}
      />
      <div id={`${id}-list`} role="listbox" aria-label="Steps" className="wk-add-menu-list">
        {groups.map((group) => (
          <div key={group.title} role="group" aria-label={group.title}>
            <div className="wk-add-menu-group" aria-hidden="true">{group.title}</div>
            {group.actions.map((action) => {
              const index = flat.indexOf(action);
              return (
                <div
                  key={action.kind}
                  id={optionId(index)}
                  role="option"
                  aria-selected={index === current}
                  aria-label={action.name}
                  className={`wk-add-menu-item${index === current ? " active" : ""}`}
                  onMouseEnter={() => setActive(index)}
                  onClick={() => onPick(action.kind)}
                >
                  <span className="wk-icon" aria-hidden="true"><ActionIcon icon={action.icon} /></span>
                  <span>
                    {action.name}
                    {action.description && <small>{action.description}</small>}
                  </span>
                </div>
              );
            })}
          </div>
        ))}
        {flat.length === 0 && <div className="wk-help">No step matches “{search}”.</div>}
      </div>
    </div>
  );
}
