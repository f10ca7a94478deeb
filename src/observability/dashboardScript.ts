import * as format from './dashboardFormat';
import { DASHBOARD_CARDS } from './dashboardCards';
import { DASHBOARD_FEED } from './dashboardFeed';
import * as math from './dashboardMath';
import { DASHBOARD_RENDER } from './dashboardRender';

/**
 * The tested functions of dashboardMath.ts and dashboardFormat.ts, as the page's source: each
 * one's compiled code, so the page runs exactly what the unit tests run.
 */
export const EMBEDDED_FUNCTIONS: string = (
  [...Object.values(math), ...Object.values(format)] as unknown[]
)
  .filter((value): value is { toString(): string } => typeof value === 'function')
  .map((fn) => fn.toString())
  .join('\n');

/*
 * The page's script: state, /status polling and the /events stream. It is plain browser
 * JavaScript inside a String.raw template: no backticks and no dollar-brace in it.
 */
export const DASHBOARD_SCRIPT = String.raw`(function () {
'use strict';
${EMBEDDED_FUNCTIONS}
${DASHBOARD_RENDER}
${DASHBOARD_CARDS}
${DASHBOARD_FEED}
var POLL_MS = 1000;
/* Readings closer together than this (a refresh after an event) update state, not rates. */
var MIN_SAMPLE_MS = 900;
var HISTORY_MS = 5 * 60 * 1000;
var FEED_MAX = 100;
var EVENTS_URL = 'events?type=health,worker,health-check';

var here = new URL(location.href);
if (here.searchParams.has('token')) {
  here.searchParams.delete('token');
  history.replaceState(null, '', here.pathname + here.search + here.hash);
}

var state = {
  status: null,
  statusError: null,
  skewMs: 0,
  receivedAt: 0,
  base: null,
  history: new Map(),
  overrides: new Map(),
  seq: 0,
  fetching: false,
  again: false,
  timer: 0,
  events: 'connecting',
  retryAt: 0,
  updates: 0,
};

function keyOf(pool, server) { return pool + '/' + server; }

function eachServer(doc, fn) {
  doc.pools.forEach(function (pool) {
    pool.servers.forEach(function (server) { fn(keyOf(pool.name, server.name), server, pool); });
  });
}

function applyOverride(server, override) {
  server.inRotation = override.healthy;
  server.out = override.out;
}

function sample(doc, now) {
  var base = state.base;
  if (!base || base.doc.startedAt !== doc.startedAt) {
    state.base = { doc: doc, at: now };
    return;
  }
  if (now - base.at < MIN_SAMPLE_MS) return;
  var before = new Map();
  eachServer(base.doc, function (key, server) { before.set(key, server); });
  var seen = new Set();
  eachServer(doc, function (key, server) {
    seen.add(key);
    var previous = before.get(key);
    if (!previous) return;
    var rates = serverRates(previous, server, (now - base.at) / 1000);
    var line = state.history.get(key) || { times: [], rates: [] };
    line.times.push(now);
    line.rates.push(rates);
    while (line.times.length > 0 && line.times[0] < now - HISTORY_MS) {
      line.times.shift();
      line.rates.shift();
    }
    state.history.set(key, line);
  });
  state.history.forEach(function (_line, key) { if (!seen.has(key)) state.history.delete(key); });
  state.base = { doc: doc, at: now };
}

function applyStatus(doc, seq) {
  var now = performance.now();
  sample(doc, now);
  state.overrides.forEach(function (override, key) {
    if (seq > override.seq) state.overrides.delete(key);
  });
  eachServer(doc, function (key, server) {
    var override = state.overrides.get(key);
    if (override) applyOverride(server, override);
  });
  state.skewMs = Date.parse(doc.startedAt) + doc.uptimeSeconds * 1000 - Date.now();
  state.receivedAt = now;
  state.status = doc;
  state.statusError = null;
  state.updates++;
}

function refresh() {
  if (state.fetching) {
    state.again = true;
    return;
  }
  clearTimeout(state.timer);
  state.fetching = true;
  state.again = false;
  var seq = ++state.seq;
  fetch('status', { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } })
    .then(function (response) {
      if (response.status === 401) throw { kind: 'unauthorized' };
      if (!response.ok) throw { kind: 'error', message: 'GET /status answered ' + response.status };
      return response.json();
    })
    .then(function (doc) {
      if (seq === state.seq) applyStatus(doc, seq);
    })
    .catch(function (error) {
      state.statusError = error && error.kind ? error : { kind: 'unreachable' };
    })
    .then(function () {
      state.fetching = false;
      try {
        render();
      } finally {
        /* Polling goes on even if a document could not be shown. */
        if (state.again) refresh();
        else state.timer = setTimeout(refresh, POLL_MS);
      }
    });
}

function onHealth(event) {
  var override = {
    seq: state.seq,
    healthy: !!event.healthy,
    out: event.healthy
      ? null
      : {
          cause: event.cause || 'health-check',
          reason: event.reason || '',
          returnsAt: event.returnsAt ? new Date(event.returnsAt).toISOString() : undefined,
        },
  };
  var key = keyOf(event.pool, event.backend);
  state.overrides.set(key, override);
  if (state.status) {
    eachServer(state.status, function (serverKey, server) {
      if (serverKey === key) applyOverride(server, override);
    });
  }
  render();
  refresh();
}

function onEvent(message) {
  var event;
  try {
    event = JSON.parse(message.data);
  } catch (error) {
    return;
  }
  if (event.type === 'health') {
    endRepeats(keyOf(event.pool, event.backend));
    onHealth(event);
  }
  var entry = feedEntry(event, clockTime);
  if (entry) addToFeed(event, entry, FEED_MAX);
}

var source = null;
var retryMs = 1000;

function connectEvents() {
  source = new EventSource(EVENTS_URL);
  state.events = 'connecting';
  source.onopen = function () {
    state.events = 'live';
    retryMs = 1000;
    renderConnection();
    refresh();
  };
  source.onmessage = onEvent;
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      state.events = 'closed';
      state.retryAt = Date.now() + retryMs;
      setTimeout(connectEvents, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    } else {
      state.events = 'reconnecting';
    }
    renderConnection();
  };
  renderConnection();
}

connectEvents();
refresh();
})();
`;
