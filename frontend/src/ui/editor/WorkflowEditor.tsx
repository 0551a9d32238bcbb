// A workflow's editor: the toolbar, the canvas and the side panel around one draft document (its
// reducer is the only owner of what the user edits). This file composes; each concern has its module.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Api } from "../../api";
import { conditionFields, eventGroup, groupsAt, outputGroup, type DataGroup } from "../../dataFields";
import { bodyStart, freePosition, layoutAll, makeRoom, newNodeSize, nodeBottom, placedPositions, toFlow } from "../../flow";
import { defaultInputs, placeProblems } from "../../forms";
import { nodeTitle } from "../../names";
import { isEmptyWorkflowProblem, problemView } from "../../problemText";
import { existing, selectedNodeId, type Selection } from "../../selection";
import { nodeSummaries } from "../../summaries";
import { FAILED, SOURCE, type ActionDef, type Conditional, type DraftProposal, type EventTypeDef, type Json, type Problem, type Workflow, type WorkflowRecord } from "../../types";
import { declaredType, stepsWithEffects, testRunQuestion } from "../../samples";
import { draftStatus } from "../../versions";
import { connectAt, connectionStart, everyAction, disconnectAnywhere, editAt, findAction, graphAt, removeAnywhere, scopeOf, TOP } from "../../scopes";
import { addAction, EdgeError, edgeId, insertBetween, newActionId, positionsOf, setPosition, setPositions } from "../../workflowOps";
import { Canvas } from "../Canvas";
import { CanvasActionsContext, type AddRequest, type CanvasActions } from "../canvasActions";
import { ErrorBoundary } from "../ErrorBoundary";
import { Palette } from "../Palette";
import { parseSample } from "../TriggerPanel";
import { AddStepMenu } from "./AddStepMenu";
import { EditorToolbar } from "./EditorToolbar";
import { SidePanel, type Tab } from "./SidePanel";
import { useEditorCommands, sampleFor, type NewWorkflow } from "./useEditorCommands";
import { useEditorShortcuts } from "./useEditorShortcuts";
import { BlanksGuide } from "./BlanksGuide";
import { blanksHeading, openBlanks, type Blank } from "../../blanks";
import { DescribeForm } from "../start/DescribeForm";
import { DraftReview } from "../start/DraftReview";
import { useLiveProblems } from "./useLiveProblems";
import { useWorkflowDocument } from "./useWorkflowDocument";

export const LEAVE_QUESTION = "Leave without saving your changes?";
const NO_PROBLEMS: Problem[] = [];

export interface WorkflowEditorProps {
  api: Api;
  /** The stored workflow to edit; null for a new one (`start`), stored by its first save. */
  workflowId: string | null;
  catalog: ActionDef[];
  onOpenRun: (runId: string, workflowId: string) => void;
  onBack?: () => void;
  /** Told whether there are unsaved changes (the host asks before it navigates away from them). */
  onDirtyChange?: (dirty: boolean) => void;
  /** Name the page (document.title) after the workflow. */
  pageTitle?: boolean;
  /** Drafting from words is available: offer "Ask for a change". */
  assistant?: boolean;
  /** A new workflow, not stored yet (a template's steps, an accepted draft): the editor opens on it,
   * unsaved, and its first save creates it. */
  start?: NewWorkflow;
  /** The first save of `start` stored it. */
  onCreated?: (record: WorkflowRecord) => void;
}

/** The first predefined edge (e.g. "True", then "False") not yet used from this node, or the one named. */
function branchEdge(workflow: Workflow, from: string, definition: ActionDef | undefined, name?: string) {
  const named = definition?.edges.edges ?? [];
  if (name) return named.find((e) => e.name === name);
  const used = new Set(workflow.edges.filter((e) => e.from === from).map((e) => e.name));
  return named.find((e) => !used.has(e.name)) ?? named[0];
}

export function WorkflowEditor({ api, workflowId, catalog, onOpenRun, onBack, onDirtyChange, pageTitle = false, assistant = false, start, onCreated }: WorkflowEditorProps) {
  const byKind = useMemo(() => new Map(catalog.map((a) => [a.kind, a])), [catalog]);
  const doc = useWorkflowDocument(workflowId ? undefined : start?.document);
  const current = doc.document;
  // a template's blanks: the walk through them starts on the first, its step selected and its field focused
  const [startBlanks] = useState(() => (start && !workflowId ? openBlanks(start.document.workflow) : []));
  const first = startBlanks[0];
  const [selected, setSelected] = useState<Selection | null>(first ? { kind: "action", id: first.actionId } : null);
  const [tab, setTab] = useState<Tab>("edit");
  const [sampleText, setSampleText] = useState<string | null>(null);
  const [menu, setMenu] = useState<{ request: AddRequest; anchor: HTMLElement | null } | null>(null);
  const [reveal, setReveal] = useState<{ id: string; seq: number } | null>(first ? { id: first.actionId, seq: 1 } : null);
  const [focus, setFocus] = useState<{ field: Array<string | number>; seq: number } | null>(first ? { field: [first.input], seq: 1 } : null);
  const [fitRequest, setFitRequest] = useState(0);
  const [eventTypes, setEventTypes] = useState<EventTypeDef[]>([]);
  const [guide, setGuide] = useState<{ blanks: Blank[]; index: number } | null>(first ? { blanks: startBlanks, index: 0 } : null);
  const [changing, setChanging] = useState(false);
  const [change, setChange] = useState<DraftProposal | null>(null);
  const root = useRef<HTMLDivElement>(null);
  // the declared event types: a new workflow's sample is its event's first example
  useEffect(() => {
    let gone = false;
    api.eventTypes().then(
      (found) => !gone && setEventTypes(found),
      () => !gone && setEventTypes([]),
    );
    return () => {
      gone = true;
    };
  }, [api]);

  const live = useLiveProblems(api, current, NO_PROBLEMS);
  const problems = live.problems;
  const commands = useEditorCommands(api, workflowId, doc, problems.length, onOpenRun, { fresh: workflowId ? undefined : start, onCreated });
  const { record } = commands;
  const storedId = record?.id || null; // none before a new workflow's first save
  const workflow = current?.workflow;
  const triggers = current?.triggers;
  const trigger = triggers?.[0]; // the first: the sample event and the node's "only when" come from it

  /** Walk to one blank: its step selected and in view, its field focused. */
  const goTo = (blank: Blank | undefined) => {
    if (!blank) return;
    setSelected({ kind: "action", id: blank.actionId });
    setTab("edit");
    setReveal((r) => ({ id: blank.actionId, seq: (r?.seq ?? 0) + 1 }));
    setFocus((f) => ({ field: [blank.input], seq: (f?.seq ?? 0) + 1 }));
  };

  useEffect(() => onDirtyChange?.(doc.dirty), [onDirtyChange, doc.dirty]);
  useEffect(() => () => onDirtyChange?.(false), [onDirtyChange]);
  useEffect(() => {
    if (!doc.dirty) return;
    const guard = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [doc.dirty]);
  // the page's title names the workflow (on the standalone page)
  const name = current?.name;
  useEffect(() => {
    if (!name || !pageTitle) return;
    const before = document.title;
    document.title = `${name} · Automations`;
    return () => {
      document.title = before;
    };
  }, [name, pageTitle]);
  // a refused edit (e.g. a connection that would make a loop) says why
  const refused = doc.refused;
  const { setBanner } = commands;
  useEffect(() => {
    if (refused) setBanner({ kind: "error", text: `That change was not made: ${refused.message}.` });
  }, [refused, setBanner]);

  const declared = declaredType(trigger, eventTypes);
  const sample = sampleText ?? (trigger ? JSON.stringify(sampleFor(trigger, eventTypes), null, 2) : "");
  const sampleEvent = parseSample(sample).value;
  const eventSchema = declared?.schema ?? null;
  const selection = workflow ? existing(selected, workflow) : null;
  const placed = useMemo(() => placeProblems(problems, workflow ?? { actions: [], edges: [] }), [problems, workflow]);
  const allFields = useMemo(() => {
    if (!workflow) return [];
    const groups: DataGroup[] = [eventGroup(sampleEvent as Json, undefined, undefined, eventSchema)];
    for (const { action } of everyAction(workflow)) {
      const group = outputGroup(workflow, byKind, action.id);
      if (group) groups.push(group);
    }
    return conditionFields(groups, ["event", "state", "async"]);
    // the sample's text stands for its parsed value
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [workflow, byKind, sample, eventSchema]);
  const summaries = useMemo(
    () => (workflow && trigger ? nodeSummaries(workflow, trigger, byKind, allFields) : {}),
    [workflow, trigger, byKind, allFields],
  );
  const flow = useMemo(() => {
    if (!workflow || !trigger) return { nodes: [], edges: [] };
    const selectedId = selection ? (selection.kind === "edge" ? edgeId(selection) : selectedNodeId(selection)) : null;
    return toFlow(workflow, { catalog: byKind, triggers: triggers ?? [trigger], problems: placed, selected: selectedId, summaries, editable: true });
  }, [workflow, trigger, triggers, byKind, placed, selection, summaries]);

  const select = useCallback((next: Selection | null) => {
    setSelected(next);
    if (next) setTab("edit");
  }, []);

  /** Add a step of `kind` where `request` says, then select it, bring it into view and focus its first field. */
  const addStep = (kind: string, request: AddRequest | null, at?: { x: number; y: number }) => {
    if (!current) return;
    const definition = byKind.get(kind);
    const inputs = definition ? (defaultInputs(definition.inputs) as Record<string, Json>) : {};
    const pinned = setPositions(current.workflow, placedPositions(current.workflow)); // nothing moves under the new one
    const id = newActionId(pinned, kind); // unique across loops' steps too
    const size = newNodeSize(kind);
    let result: Workflow;
    try {
      if (request?.kind === "between") {
        const scope = scopeOf(pinned, request.to) ?? TOP;
        const positions = positionsOf(pinned);
        const from = request.from === SOURCE && scope.length ? bodyStart() : positions[request.from];
        const to = positions[request.to];
        const below = nodeBottom(pinned, request.from, scope) + 68;
        const position = from && to ? { x: Math.round((from.x + to.x) / 2), y: Math.round(below) } : undefined;
        const room = size.height + 68;
        const shift = from && to && to.y - below < room ? { x: 0, y: room } : undefined;
        const onward = branchEdge(pinned, "", definition);
        result = editAt(pinned, scope, (graph) =>
          insertBetween(graph, kind, request.from, request.to, {
            id,
            inputs,
            position,
            shift,
            onward: onward ? { name: onward.name, conditional: onward.conditional } : undefined,
          }).workflow,
        );
      } else {
        const inside = request?.kind === "start" ? [...(scopeOf(pinned, request.loop) ?? TOP), request.loop] : null;
        const parent = request?.kind === "start" ? SOURCE : request?.from;
        const scope = inside ?? (parent && parent !== SOURCE ? scopeOf(pinned, parent) ?? TOP : TOP);
        const graph = graphAt(pinned, scope);
        const parentDefinition = parent && parent !== SOURCE ? byKind.get(findAction(pinned, parent)?.kind ?? "") : undefined;
        const failure = request?.kind === "after" && request.failure;
        const edge: { name?: string; conditional?: Conditional } | undefined = failure ? { conditional: { type: FAILED } } : parent ? branchEdge(graph, parent, parentDefinition, request?.kind === "after" ? request.edge : undefined) : undefined;
        result = editAt(pinned, scope, (g) =>
          addAction(g, kind, {
            id,
            position: at ?? freePosition(pinned, parent, scope, size, !!failure),
            parent,
            edge: edge ? { name: edge.name, conditional: edge.conditional } : undefined,
            inputs,
          }).workflow,
        );
      }
      result = makeRoom(pinned, result); // a loop that grew pushes what is below it down
    } catch (error) {
      commands.setBanner({ kind: "error", text: `The step was not added: ${(error as Error).message}.` });
      return;
    }
    doc.edit((d) => ({ ...d, workflow: result }));
    setSelected({ kind: "action", id });
    setTab("edit");
    if (!at) setReveal((r) => ({ id, seq: (r?.seq ?? 0) + 1 })); // a step dropped is where the user put it
    setFocus((f) => ({ field: [], seq: (f?.seq ?? 0) + 1 }));
    setMenu(null);
  };

  const canvasActions = useMemo<CanvasActions>(() => ({ requestAdd: (request, anchor) => setMenu({ request, anchor }) }), []);

  /** Whether a template's blanks are still empty: then nothing is saved, and the walk through them starts. */
  const blanksFirst = () => {
    const open = current ? openBlanks(current.workflow) : [];
    if (!open.length) return false;
    setGuide({ blanks: open, index: 0 });
    goTo(open[0]);
    commands.setBanner({ kind: "error", text: `Not saved yet: ${blanksHeading(open.length).toLowerCase()}.` });
    return true;
  };
  const save = () => {
    if (!blanksFirst()) void commands.save();
  };

  useEditorShortcuts(root, {
    undo: doc.undo,
    redo: doc.redo,
    save: () => {
      if (doc.dirty && !commands.busy) save();
    },
  });

  if (!current || !record || !workflow || !trigger) {
    return (
      <div className="wk-home" role="status">
        {commands.banner ? <div className="wk-banner error">{commands.banner.text}</div> : "Loading…"}
      </div>
    );
  }

  const latest = commands.versions?.[0] ?? null;
  const status = draftStatus(current, commands.versions === null ? undefined : latest);
  const empty = workflow.actions.length === 0;
  const shownProblems = problems.filter((p) => !isEmptyWorkflowProblem(p, workflow));
  const views = shownProblems.map((p) => problemView(p, workflow, byKind));
  const workflowProblems = placed.workflow.filter((p) => !isEmptyWorkflowProblem(p, workflow)).map((p) => problemView(p, workflow, byKind));
  const groups = groupsAt(workflow, byKind, sampleEvent as Json, selection, eventSchema);
  const menuTitle = (request: AddRequest) => {
    if (request.kind === "start") return `Add a step inside ${nodeTitle(request.loop, workflow, byKind)}`;
    if (request.kind === "between" && request.from === SOURCE && (scopeOf(workflow, request.to) ?? TOP).length) {
      return `Add a step at the start of ${nodeTitle((scopeOf(workflow, request.to) ?? TOP).slice(-1)[0], workflow, byKind)}`;
    }
    if (request.kind === "between") return `Add a step between ${nodeTitle(request.from, workflow, byKind)} and ${nodeTitle(request.to, workflow, byKind)}`;
    const after = nodeTitle(request.from, workflow, byKind);
    if (request.failure) return `Add a step to run if ${after} fails`;
    return request.edge ? `Add a step on the ${request.edge} branch of ${after}` : `Add a step after ${after}`;
  };

  return (
    <div className="wk-editor" ref={root}>
      <EditorToolbar
        name={current.name}
        onName={(next) => doc.edit((d) => ({ ...d, name: next }), "name")}
        status={status}
        dirty={doc.dirty}
        problems={views}
        checking={live.checking}
        onProblem={(view) => {
          setSelected(view.target.selection);
          setTab(view.target.tab);
          if (view.target.field) setFocus((f) => ({ field: view.target.field ?? [], seq: (f?.seq ?? 0) + 1 }));
          if (view.target.selection?.kind === "action") {
            const id = view.target.selection.id;
            setReveal((r) => ({ id, seq: (r?.seq ?? 0) + 1 }));
          }
        }}
        busy={commands.busy}
        enabled={record.enabled}
        canUndo={doc.canUndo}
        canRedo={doc.canRedo}
        onUndo={doc.undo}
        onRedo={doc.redo}
        onBack={onBack ? () => {
          if (!onDirtyChange && doc.dirty && !window.confirm(LEAVE_QUESTION)) return;
          onBack();
        } : undefined}
        onLayout={() => {
          doc.editWorkflow((w) => setPositions(w, layoutAll(w)));
          setFitRequest((n) => n + 1);
        }}
        onSave={save}
        onAskChange={assistant && storedId ? () => { setChanging(!changing); setChange(null); } : undefined}
        onPublish={() => {
          if (!blanksFirst()) void commands.publish();
        }}
        onToggleEnabled={() => void commands.toggleEnabled()}
      />
      {commands.banner && (
        <div className={`wk-banner ${commands.banner.kind}`} role={commands.banner.kind === "info" ? "status" : "alert"}>
          <span>{commands.banner.text}</span>
          {commands.banner.kind === "conflict" && (
            <>
              <button type="button" className="wk-button" onClick={() => void commands.reload()}>Reload (discard my changes)</button>
              <button type="button" className="wk-button" onClick={() => void commands.keepMine()}>Keep my changes</button>
            </>
          )}
          <span className="wk-spacer" />
          <button type="button" className="wk-link" onClick={() => commands.setBanner(null)} aria-label="Dismiss">×</button>
        </div>
      )}
      {guide && (
        <BlanksGuide
          blanks={guide.blanks}
          index={guide.index}
          open={openBlanks(workflow)}
          workflow={workflow}
          catalog={byKind}
          onIndex={(index) => {
            setGuide({ ...guide, index });
            goTo(guide.blanks[index]);
          }}
          onClose={() => setGuide(null)}
        />
      )}
      {changing && !change && (
        <div className="wk-ask-change">
          <DescribeForm
            label="What should change?"
            placeholder="Also write LinkedIn posts, after the tweets"
            submit="Draft the change"
            ask={(words) => api.draftChange(storedId ?? "", words, workflow, current.triggers)}
            onProposal={setChange}
          />
          <button type="button" className="wk-link" onClick={() => setChanging(false)}>Cancel</button>
        </div>
      )}
      {change && (
        <DraftReview
          proposal={change}
          catalog={byKind}
          before={current}
          onAccept={() => {
            doc.edit((d) => ({ ...d, workflow: change.workflow, triggers: change.triggers }));
            setChange(null);
            setChanging(false);
            commands.setBanner({ kind: "info", text: "The change is in the draft, not saved yet: look it over, then save. Undo takes it back." });
          }}
          onDiscard={() => {
            setChange(null);
            setChanging(false);
          }}
        />
      )}
      {workflowProblems.length > 0 && (
        <div className="wk-banner error" aria-label="Problems with the workflow">
          {workflowProblems.map((v) => v.text).join(" · ")}
        </div>
      )}
      <CanvasActionsContext.Provider value={canvasActions}>
        <div className="wk-body">
          <ErrorBoundary what="the list of actions">
            <Palette
              actions={catalog}
              onAdd={(kind) => {
                // after the selected node, as the palette says; with nothing selected, on its own (to connect)
                const from = selectedNodeId(selection);
                addStep(kind, from ? { kind: "after", from } : null);
              }}
            />
          </ErrorBoundary>
          <div className="wk-canvas-area">
            <ErrorBoundary what="the canvas">
              <Canvas
                fitRequest={fitRequest}
                reveal={reveal}
                nodes={flow.nodes}
                edges={flow.edges}
                onSelect={select}
                onConnect={(node, to, handle) =>
                  doc.editWorkflow((w) => {
                    const start = connectionStart(w, node, handle);
                    if (!start) throw new EdgeError("that step is not there any more");
                    if (handle === "failed") return connectAt(w, start.scope, start.from, to, { conditional: { type: FAILED } });
                    const fromDefinition = start.from === SOURCE ? undefined : byKind.get(findAction(w, start.from)?.kind ?? "");
                    const branch = branchEdge(graphAt(w, start.scope), start.from, fromDefinition);
                    return connectAt(w, start.scope, start.from, to, branch ? { name: branch.name, conditional: branch.conditional } : {});
                  })
                }
                onMove={(positions) => doc.editWorkflow((w) => Object.entries(positions).reduce((acc, [id, p]) => setPosition(acc, id, p), w))}
                onDeleteNodes={(ids) => {
                  doc.editWorkflow((w) => ids.reduce((acc, id) => removeAnywhere(acc, id), w));
                  setSelected(null);
                }}
                onDeleteEdges={(edges) => doc.editWorkflow((w) => edges.reduce((acc, e) => disconnectAnywhere(acc, e.from, e.to), w))}
                onDropAction={(kind, position) => addStep(kind, null, position)}
              />
            </ErrorBoundary>
            {empty && (
              <div className="wk-invite" role="note">
                <strong>Start with a first step.</strong>
                <span>Choose what happens when this workflow is triggered.</span>
                <button type="button" className="wk-button primary" onClick={(e) => setMenu({ request: { kind: "after", from: SOURCE }, anchor: e.currentTarget })}>
                  + Add the first step
                </button>
              </div>
            )}
          </div>
          <SidePanel
            api={api}
            workflowId={storedId}
            tab={tab}
            onTab={setTab}
            selection={selection}
            document={current}
            record={record}
            versions={commands.versions}
            catalog={byKind}
            problems={problems}
            placed={placed}
            groups={groups}
            sample={sample}
            onSample={setSampleText}
            sampleEvent={sampleEvent}
            examples={(declared?.examples ?? []).map((data) => ({ name: declared?.name ?? "", data }))}
            focus={focus}
            busy={commands.busy}
            doc={doc}
            onSelect={select}
            onAddAfter={(id, anchor) => setMenu({ request: { kind: "after", from: id }, anchor })}
            onAddOnFailure={(id, anchor) => setMenu({ request: { kind: "after", from: id, failure: true }, anchor })}
            onOpenRun={(runId) => storedId && onOpenRun(runId, storedId)}
            onTestRun={() => {
              const effects = stepsWithEffects(workflow, byKind);
              if (blanksFirst() || (effects.length && !window.confirm(testRunQuestion(effects)))) return;
              void commands.testRun(sample);
            }}
            onPublish={(message) => {
              if (!blanksFirst()) void commands.publish(message);
            }}
            onRestored={(number) => commands.setBanner({ kind: "info", text: `Version ${number} restored into the draft: save or publish to keep it.` })}
          />
        </div>
      </CanvasActionsContext.Provider>
      {menu && (
        <AddStepMenu
          title={menuTitle(menu.request)}
          catalog={catalog}
          anchor={menu.anchor}
          onPick={(kind) => addStep(kind, menu.request)}
          onClose={() => setMenu(null)}
        />
      )}
    </div>
  );
}

