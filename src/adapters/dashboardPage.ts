import { DASHBOARD_SCRIPT } from '../observability/dashboardScript';

const STYLE = String.raw`
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1f2328; background: #f6f8fa; font-variant-numeric: tabular-nums; }
h1, h2, h3 { margin: 0; font-weight: 600; }
h1 { font-size: 18px; }
h2 { font-size: 15px; }
h3 { font-size: 15px; overflow-wrap: anywhere; }
small, .muted { color: #59636e; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; padding: 10px 16px;
  background: #fff; border-bottom: 1px solid #d1d9e0; }
.brand { display: flex; align-items: baseline; gap: 8px; margin-right: auto; }
#meta { flex-basis: 100%; font-size: 12px; overflow-wrap: anywhere; }
.pill, .badge { display: inline-block; border-radius: 999px; font-size: 12px; font-weight: 600;
  padding: 2px 10px; white-space: nowrap; border: 1px solid transparent; }
.badge { padding: 1px 8px; }
.ok { color: #116329; background: #dafbe1; border-color: #aceebb; }
.warn { color: #7d4e00; background: #fff8c5; border-color: #f0d77a; }
.bad { color: #a40e26; background: #ffebe9; border-color: #ffcecb; }
.info { color: #3d444d; background: #eff2f5; border-color: #d1d9e0; }
.ok::before { content: "● "; } .warn::before { content: "▲ "; } .bad::before { content: "■ "; }
#notice { margin: 12px 16px 0; padding: 10px 12px; border-radius: 6px; color: #a40e26;
  background: #ffebe9; border: 1px solid #ffcecb; overflow-wrap: anywhere; }
main { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px; padding: 12px 16px 24px; }
main.stale .content { opacity: 0.6; }
@media (min-width: 1100px) { main { grid-template-columns: minmax(0, 1fr) 340px; } }
.summary { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 16px; }
.tile { flex: 1 1 100px; background: #fff; border: 1px solid #d1d9e0; border-radius: 8px; padding: 6px 10px;
  min-width: 0; }
.tile.wide { flex: 2 1 230px; }
.tile.wide .tile-value { font-size: 16px; }
.tile-label { font-size: 12px; color: #59636e; }
.tile-value { font-size: 18px; font-weight: 600; overflow-wrap: anywhere; }
.tile-value small { font-size: 12px; font-weight: 400; }
.pool { margin-bottom: 20px; }
.pool-head { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; margin-bottom: 8px; }
.pool-head .muted { font-size: 12px; overflow-wrap: anywhere; }
.servers { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(min(100%, 270px), 1fr)); }
.server { background: #fff; border: 1px solid #d1d9e0; border-left: 4px solid #1a7f37; border-radius: 8px;
  padding: 10px 12px; min-width: 0; }
.server.s-warn { border-left-color: #bf8700; }
.server.s-down { border-left-color: #cf222e; background: #fffafa; }
.server-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 8px; }
.addr { font-size: 12px; color: #59636e; overflow-wrap: anywhere; }
.why { margin: 6px 0 0; font-size: 13px; overflow-wrap: anywhere; }
.server.s-down .why { color: #a40e26; }
.server.s-warn .why { color: #7d4e00; }
.facts { display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 8px 0; font-size: 13px; }
.facts div { display: flex; gap: 4px; min-width: 0; }
.facts dt { color: #59636e; }
.facts dd { margin: 0; }
.charts { display: grid; grid-template-columns: auto minmax(0, 1fr) 4.5em; gap: 2px 10px; align-items: center;
  margin-top: 4px; }
.chart { display: contents; }
.chart-label { font-size: 12px; color: #59636e; line-height: 1.2; white-space: nowrap; }
.chart-label small { display: block; font-size: 11px; color: #818b98; }
.chart svg { display: block; width: 100%; height: 28px; overflow: visible; }
.chart path { fill: none; stroke-width: 1.5; stroke-linecap: round; stroke-linejoin: round;
  vector-effect: non-scaling-stroke; }
.chart .base { stroke: #d1d9e0; stroke-width: 1; }
.chart .rate, .chart .p50 { stroke: #0969da; } .chart .p99 { stroke: #8250df; } .chart .errors { stroke: #cf222e; }
.chart-value { font-size: 13px; font-weight: 600; text-align: right; white-space: nowrap; }
.foot { margin: 6px 0 0; font-size: 12px; color: #59636e; overflow-wrap: anywhere; }
.feed { background: #fff; border: 1px solid #d1d9e0; border-radius: 8px; padding: 10px 12px; min-width: 0;
  align-self: start; }
@media (min-width: 1100px) { .feed { position: sticky; top: 12px; max-height: calc(100vh - 24px); overflow-y: auto; } }
.feed ol { list-style: none; margin: 8px 0 0; padding: 0; }
.event { display: grid; grid-template-columns: auto auto minmax(0, 1fr); gap: 2px 8px; align-items: baseline;
  padding: 6px 0; border-top: 1px solid #eff2f5; font-size: 13px; }
.event time { color: #59636e; font-size: 12px; }
.event .text { overflow-wrap: anywhere; }
.event .muted { font-size: 12px; }
`;

/**
 * The live dashboard served at the admin listener's `/`: one self-contained document (no external
 * script, style or font) that polls `status` and listens to `events`, both relative to the page.
 */
export const DASHBOARD_HTML: string = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rxproxy dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
  <div class="brand"><h1>rxproxy</h1><span id="version" class="muted"></span></div>
  <span id="ready" class="pill info">Readiness unknown</span>
  <span id="conn" class="pill warn" role="status">Connecting…</span>
  <div id="meta" class="muted"></div>
</header>
<div id="notice" role="alert" hidden></div>
<main>
  <div class="content">
    <section id="summary" class="summary" aria-label="Totals"></section>
    <div id="pools"></div>
  </div>
  <aside class="feed" aria-label="Events">
    <h2>Events</h2>
    <p id="feed-empty" class="muted">Health changes, ejections, failed health checks and worker scaling appear here, newest first.</p>
    <ol id="feed"></ol>
  </aside>
</main>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
