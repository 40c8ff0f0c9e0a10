/**
 * The status page's HTML. Scripts and styles are files under `assets/` (the page's policy allows
 * no inline ones); the page holds no data, so it is served without a token.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Meridian status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/app.css">
</head>
<body>
<header>
  <h1>Meridian</h1>
  <span id="conn" data-state="idle">not connected</span>
  <span id="revision"></span>
  <button id="logout" type="button" hidden>Log out</button>
</header>
<section id="login" hidden>
  <form id="login-form">
    <h2>Log in</h2>
    <p>The scheduler's API token (<code>meridian up</code> prints it). It stays in this tab only.</p>
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required>
    <button type="submit">Log in</button>
    <p id="login-error" role="alert"></p>
  </form>
</section>
<main id="main" hidden>
  <section class="map">
    <svg id="map" viewBox="0 0 960 490" role="img" aria-label="World map of the catalog's regions and the replicas in each">
      <g id="land"></g><g id="markers"></g>
    </svg>
    <ul class="legend">
      <li><span class="dot healthy"></span>healthy region in use</li>
      <li><span class="dot unhealthy"></span>unhealthy region</li>
      <li><span class="dot open"></span>breaker open</li>
      <li><span class="dot idle"></span>catalog region</li>
      <li>number: replicas running there</li>
    </ul>
  </section>
  <section>
    <h2>Workloads</h2>
    <table id="workloads">
      <thead><tr><th>Workload</th><th>Policy</th><th>Ready / desired</th><th>Pending</th><th>Terminating</th><th>Converged</th><th>Regions (replicas)</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Regions in use or failing</h2>
    <table id="regions">
      <thead><tr><th>Region</th><th>Location</th><th>Health</th><th>Breaker</th><th>Replicas</th><th>Last error</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>GeoDNS servers</h2>
    <div id="geodns"><p class="muted">loading</p></div>
  </section>
</main>
<script src="assets/d3-array.min.js"></script>
<script src="assets/d3-geo.min.js"></script>
<script src="assets/topojson-client.min.js"></script>
<script src="assets/app.js"></script>
</body>
</html>
`;

/** The status page's style sheet. */
export const PAGE_CSS = `
:root { --ok: #1a7f37; --bad: #cf222e; --idle: #8c959f; --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --sea: #eaf2fb; --land: #d6dde4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
header { display: flex; gap: 16px; align-items: center; padding: 10px 20px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
#conn { padding: 2px 8px; border-radius: 10px; background: #eee; font-size: 12px; }
#conn[data-state="live"] { background: #dafbe1; color: var(--ok); }
#conn[data-state="reconnecting"] { background: #ffebe9; color: var(--bad); }
#revision { color: var(--muted); font-size: 12px; }
#logout { margin-left: auto; }
main, #login { padding: 12px 20px; max-width: 1200px; }
#login form { max-width: 360px; display: grid; gap: 8px; }
#login-error { color: var(--bad); min-height: 1.4em; }
h2 { font-size: 15px; margin: 18px 0 8px; }
.map svg { width: 100%; height: auto; background: var(--sea); border: 1px solid var(--line); border-radius: 6px; }
.sphere { fill: var(--sea); }
.country { fill: var(--land); stroke: #fff; stroke-width: 0.5; }
.region circle { stroke: #fff; stroke-width: 1; }
.region.idle circle { fill: var(--idle); opacity: 0.7; }
.region.idle.down circle { fill: var(--bad); opacity: 1; }
.region.healthy circle { fill: var(--ok); }
.region.unhealthy circle { fill: var(--bad); }
.region.open circle { stroke: var(--bad); stroke-width: 2.5; stroke-dasharray: 3 2; }
.region text { font-size: 10px; font-weight: 600; fill: #fff; text-anchor: middle; dominant-baseline: central; pointer-events: none; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 14px; padding: 0; margin: 6px 0; color: var(--muted); font-size: 12px; }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 4px; vertical-align: -1px; }
.dot.healthy { background: var(--ok); } .dot.unhealthy { background: var(--bad); } .dot.idle { background: var(--idle); }
.dot.open { border: 2px dashed var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
.chip { display: inline-block; padding: 0 6px; margin: 1px 4px 1px 0; border-radius: 8px; font-size: 12px; background: #dafbe1; color: var(--ok); }
.chip.unhealthy { background: #ffebe9; color: var(--bad); }
.yes { color: var(--ok); } .no { color: var(--bad); }
.muted { color: var(--muted); }
.servers { display: flex; flex-wrap: wrap; gap: 12px; }
.server { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 280px; }
.server h3 { margin: 0 0 4px; font-size: 13px; }
`;
