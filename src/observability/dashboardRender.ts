/*
 * The page's header, totals and notices: plain browser JavaScript inside a String.raw template
 * (no backticks and no dollar-brace in it). It runs inside the script of dashboardScript.ts and
 * reads its `state`.
 */
export const DASHBOARD_RENDER = String.raw`
function pad2(n) { return (n < 10 ? '0' : '') + n; }

function clockTime(ms) {
  var d = new Date(ms);
  return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

function setHtml(id, html) {
  var element = document.getElementById(id);
  if (element.__html !== html) {
    element.innerHTML = html;
    element.__html = html;
  }
}

function pill(id, tone, text, title) {
  var element = document.getElementById(id);
  element.className = 'pill ' + tone;
  element.textContent = text;
  element.title = title || '';
}

function tile(label, value, extraClass) {
  return '<div class="tile ' + (extraClass || '') + '"><div class="tile-label">' + label + '</div><div class="tile-value">' + value + '</div></div>';
}

function summary(doc) {
  var t = { rps: 0, requests: 0, failed: 0, ws: 0, busy: 0, idle: 0, connecting: 0, queued: 0, up: 0, all: 0 };
  eachServer(doc, function (key, server) {
    var latest = latestRates(state.history.get(key));
    if (latest) {
      t.rps += latest.requestsPerSecond;
      t.requests += latest.requests;
      t.failed += latest.failed;
    }
    t.ws += server.websockets.open;
    t.queued += server.queueDepth;
    t.all++;
    if (server.inRotation) t.up++;
    if (server.workers) {
      t.busy += server.workers.busy;
      t.idle += server.workers.idle;
      t.connecting += server.workers.connecting;
    }
  });
  return tile('Servers up', t.up + ' / ' + t.all) +
    tile('Requests/s', formatRate(t.rps)) +
    tile('Error rate', formatPercent(t.requests > 0 ? t.failed / t.requests : null)) +
    tile('In flight', doc.requestsInFlight) +
    tile('WebSockets', t.ws) +
    tile('Queued', t.queued) +
    tile('Workers', t.busy + ' <small>busy</small> · ' + t.idle + ' <small>idle</small> · ' + t.connecting + ' <small>connecting</small>', 'wide');
}

function renderConnection() {
  var error = state.statusError;
  var updated = state.receivedAt ? 'Updated ' + clockTime(Date.now() - (performance.now() - state.receivedAt)) : '';
  var element = document.getElementById('conn');
  element.dataset.state = error && error.kind === 'unreachable' ? 'unreachable' : state.events;
  if (error && error.kind === 'unreachable') pill('conn', 'bad', 'Proxy unreachable', updated);
  else if (state.events === 'live') pill('conn', 'ok', 'Live', updated);
  else if (state.events === 'closed') {
    pill('conn', 'bad', 'Events disconnected, retrying in ' + Math.max(1, Math.ceil((state.retryAt - Date.now()) / 1000)) + 's', updated);
  } else pill('conn', 'warn', state.events === 'connecting' ? 'Connecting…' : 'Reconnecting…', updated);
}

function renderNotice() {
  var error = state.statusError;
  var notice = document.getElementById('notice');
  var text = '';
  if (error && error.kind === 'unauthorized') {
    text = 'Not signed in: /status answered 401 Unauthorized. Open this page as /?token=<admin token> ' +
      '(the token of the [admin] section of the proxy configuration).';
  } else if (error && error.kind === 'unreachable') {
    text = 'Cannot reach the proxy' + (state.status ? '; showing the last data received.' : '.');
  } else if (error) text = error.message;
  notice.textContent = text;
  notice.hidden = text === '';
  document.querySelector('main').classList.toggle('stale', !!error && !!state.status);
}

function render() {
  renderConnection();
  renderNotice();
  var doc = state.status;
  if (!doc) return;
  var now = performance.now();
  document.getElementById('version').textContent = 'v' + doc.version;
  if (doc.ready) pill('ready', 'ok', 'Ready');
  else pill('ready', 'bad', 'Not ready: ' + doc.readiness);
  var processes = typeof doc.workers === 'number' ? ' · ' + doc.workers + ' worker processes' : '';
  document.getElementById('meta').textContent = 'up ' + formatDuration(doc.uptimeSeconds) + processes + ' · ' + doc.configFile;
  setHtml('summary', summary(doc));
  setHtml('pools', doc.pools.map(function (pool) { return poolSection(pool, now); }).join(''));
  var down = 0;
  eachServer(doc, function (_key, server) { if (!server.inRotation) down++; });
  document.title = (down > 0 ? '(' + down + ' down) ' : '') + 'rxproxy dashboard';
  document.body.dataset.updates = String(state.updates);
}
`;
