// The gallery of templates a new workflow can start from: search, tags, a small picture of each graph,
// what it asks the user to fill in, and "Use this template".

import { useEffect, useMemo, useState } from "react";
import type { Api } from "../../api";
import type { Catalog } from "../../names";
import { allTags, filterTemplates, previewOf } from "../../templates";
import { triggersSentence } from "../../triggers";
import type { TemplateDef } from "../../types";

function GraphPreview({ template, catalog }: { template: TemplateDef; catalog: Catalog }) {
  const preview = useMemo(() => previewOf(template.workflow, catalog), [template, catalog]);
  const described = preview.nodes.map((n) => n.label).join(", then ");
  return (
    <svg className="wk-template-preview" width={preview.width} height={preview.height} viewBox={`0 0 ${preview.width} ${preview.height}`} role="img" aria-label={`Preview: ${described}`}>
      {preview.edges.map((e, i) => (
        <line key={i} x1={e.x1} y1={e.y1} x2={e.x2} y2={e.y2} className="wk-template-edge" />
      ))}
      {preview.nodes.map((n) => {
        // the label fits its box: a smaller box, a smaller and shorter label
        const size = Math.max(6, Math.min(10, n.height * 0.42));
        const room = Math.max(4, Math.floor((n.width - 6) / (size * 0.56)));
        return (
          <g key={n.id}>
            <rect x={n.x} y={n.y} width={n.width} height={n.height} rx={4} className={n.trigger ? "wk-template-trigger" : "wk-template-node"} />
            <text x={n.x + n.width / 2} y={n.y + n.height / 2 + size / 3} textAnchor="middle" fontSize={size} className="wk-template-label">
              {n.label.length > room ? `${n.label.slice(0, room - 1)}…` : n.label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export interface TemplateGalleryProps {
  api: Api;
  catalog: Catalog;
  onUse: (template: TemplateDef) => void;
  busy?: boolean;
}

export function TemplateGallery({ api, catalog, onUse, busy = false }: TemplateGalleryProps) {
  const [templates, setTemplates] = useState<TemplateDef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [tag, setTag] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    api.templates().then(
      (found) => !gone && setTemplates(found),
      (e: Error) => !gone && setError(e.message),
    );
    return () => {
      gone = true;
    };
  }, [api]);
  if (error) return <div className="wk-banner error" role="alert">{error}</div>;
  if (!templates) return <div className="wk-help" role="status">Loading the templates…</div>;
  if (!templates.length) return <p className="wk-help">No templates yet: start from scratch above.</p>;
  const shown = filterTemplates(templates, query, tag);
  return (
    <section className="wk-gallery" aria-label="Templates">
      <div className="wk-gallery-filters">
        <input type="search" aria-label="Search templates" placeholder="Search templates…" value={query} onChange={(e) => setQuery(e.target.value)} />
        <div role="group" aria-label="Filter by tag" className="wk-tags">
          <button type="button" className={`wk-tag${tag === null ? " on" : ""}`} aria-pressed={tag === null} onClick={() => setTag(null)}>All</button>
          {allTags(templates).map((name) => (
            <button key={name} type="button" className={`wk-tag${tag === name ? " on" : ""}`} aria-pressed={tag === name} onClick={() => setTag(tag === name ? null : name)}>
              {name}
            </button>
          ))}
        </div>
      </div>
      {shown.length === 0 && <p className="wk-help">No template matches: try other words, or another tag.</p>}
      <ul className="wk-template-cards">
        {shown.map((template) => (
          <li key={template.id}>
            <article className="wk-template-card" aria-label={template.name}>
              <GraphPreview template={template} catalog={catalog} />
              <h3>{template.name}</h3>
              <p>{template.description}</p>
              <p className="wk-help">{triggersSentence([template.trigger])}</p>
              {template.blanks.length > 0 && (
                <p className="wk-help">You fill in {template.blanks.length} {template.blanks.length === 1 ? "thing" : "things"}.</p>
              )}
              <button type="button" className="wk-button primary" disabled={busy} onClick={() => onUse(template)}>
                Use this template
              </button>
            </article>
          </li>
        ))}
      </ul>
    </section>
  );
}
