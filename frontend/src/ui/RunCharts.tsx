import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import type { Api } from "../api";
import { chartColumns, statsSummary } from "../charts";
import type { RunStats } from "../history";

const WIDTH = 300;
const HEIGHT = 120;

function canDraw(): boolean {
  try {
    return typeof navigator !== "undefined" && !/jsdom/i.test(navigator.userAgent);
  } catch {
    return false;
  }
}

/** One small time chart (uPlot): bars of runs, or a line of the failure rate. */
function Chart({ label, times, span, values, kind }: { label: string; times: number[]; span: [number, number]; values: Array<number | null>; kind: "bars" | "line" }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // (no canvas to draw on, as in a test's simulated page: the caption and the summary stand alone)
    if (!box.current || !canDraw()) return;
    const color = kind === "bars" ? "#3b6fd6" : "#c62828";
    const chart = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: true, drag: { x: false, y: false } },
        scales: { x: { time: true, range: () => span }, y: { range: (_u, _min, max) => [0, Math.max(kind === "line" ? 100 : 1, max)] } },
        axes: [{ size: 28, font: "10px sans-serif" }, { size: 34, font: "10px sans-serif" }],
        series: [
          {},
          {
            label,
            stroke: color,
            fill: kind === "bars" ? "rgba(59, 111, 214, 0.35)" : undefined,
            paths: kind === "bars" ? uPlot.paths.bars?.({ size: [0.7, 40] }) : undefined,
            points: { show: kind === "line" },
            spanGaps: false,
          },
        ],
      },
      [times, values],
      box.current,
    );
    return () => chart.destroy();
  }, [label, times, span, values, kind]);
  return <div ref={box} role="img" aria-label={label} />;
}

/** The workflow's runs per hour and failure rate over the last 24 hours or 7 days. */
export function RunCharts({ api, workflowId }: { api: Api; workflowId: string }) {
  const [range, setRange] = useState<"24h" | "7d">("24h");
  const [stats, setStats] = useState<RunStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    const load = () =>
      api.stats(workflowId, range).then(
        (found) => !gone && setStats(found),
        (e: Error) => !gone && setError(e.message),
      );
    void load();
    const timer = setInterval(() => void load(), 30_000);
    return () => {
      gone = true;
      clearInterval(timer);
    };
  }, [api, workflowId, range]);
  const columns = useMemo(() => (stats ? chartColumns(stats) : null), [stats]); // one chart per answer, not per render
  const slice = range === "24h" ? "hour" : "6 hours";
  return (
    <section className="wk-section wk-charts" aria-label="Runs at a glance">
      <div className="wk-charts-head">
        <h3>At a glance</h3>
        <div role="group" aria-label="Period">
          <button type="button" className="wk-link" aria-pressed={range === "24h"} onClick={() => setRange("24h")}>Last 24 hours</button>
          {" · "}
          <button type="button" className="wk-link" aria-pressed={range === "7d"} onClick={() => setRange("7d")}>Last 7 days</button>
        </div>
      </div>
      {error && <div className="wk-problems">{error}</div>}
      {stats && <p className="wk-help" role="status">{statsSummary(stats)}</p>}
      {columns && (
        <div className="wk-charts-row">
          <figure>
            <figcaption>Runs per {slice}</figcaption>
            <Chart label={`Runs per ${slice}`} times={columns.times} span={columns.span} values={columns.runs} kind="bars" />
          </figure>
          <figure>
            <figcaption>Failed runs (%)</figcaption>
            <Chart label="Failed runs, in percent" times={columns.times} span={columns.span} values={columns.failureRate} kind="line" />
          </figure>
        </div>
      )}
    </section>
  );
}
