/*
 * The page's pools and server cards with their sparklines: plain browser JavaScript inside a
 * String.raw template (no backticks and no dollar-brace in it), run inside the script of
 * dashboardScript.ts; it reads its `state`.
 */
export const DASHBOARD_CARDS = String.raw`
var SPARK_GAP_MS = 5000;
var ERROR_WINDOW_MS = 30000;

function latestRates(line) {
  return line && line.rates.length > 0 ? line.rates[line.rates.length - 1] : null;
}

/* Failed / finished requests over the last ERROR_WINDOW_MS, and how many finished. */
function recentErrors(line, now) {
  var requests = 0;
  var failed = 0;
  if (line) {
    line.rates.forEach(function (rates, index) {
      if (line.times[index] >= now - ERROR_WINDOW_MS) {
        requests += rates.requests;
        failed += rates.failed;
      }
    });
  }
  return { requests: requests, rate: requests > 0 ? failed / requests : null };
}

function serverHealth(server, line, now) {
  if (!server.inRotation) {
    var out = server.out || { cause: 'health-check', reason: '' };
    var why = outText(out.cause, out.reason);
    if (out.returnsAt) {
      var at = Date.parse(out.returnsAt);
      var left = (at - (Date.now() + state.skewMs)) / 1000;
      why += left > 0 ? ' · returns in ' + formatDuration(left) + ' (' + clockTime(at) + ')' : ' · returning now';
    }
    return { state: 'down', tone: 'bad', label: out.cause === 'ejection' ? 'Ejected' : 'Down', why: why };
  }
  var check = server.lastHealthCheck;
  if (check && !check.up) {
    return { state: 'warn', tone: 'warn', label: 'Up, check failing', why: 'Last health check failed' + (check.reason ? ': ' + check.reason : '') };
  }
  var errors = recentErrors(line, now);
  if (errors.requests >= 20 && errors.rate >= 0.05) {
    return { state: 'warn', tone: 'warn', label: 'Up, errors', why: formatPercent(errors.rate) + ' of requests failed in the last 30s' };
  }
  return { state: 'up', tone: 'ok', label: 'Up', why: '' };
}

function spark(line, now, pick, max, cls) {
  var d = line ? sparklinePath({
    times: line.times,
    values: line.rates.map(pick),
    from: now - HISTORY_MS,
    to: now,
    width: 100,
    height: 24,
    max: max,
    maxGap: SPARK_GAP_MS,
  }) : '';
  return d ? '<path class="' + cls + '" d="' + d + '"/>' : '';
}

function peak(line, pick) {
  var top = 0;
  if (line) line.rates.forEach(function (rates) { var v = pick(rates); if (v !== null && v > top) top = v; });
  return top;
}

function chart(label, scale, value, paths) {
  return '<div class="chart"><div class="chart-label">' + label + '<small>' + scale + '</small></div>' +
    '<svg viewBox="0 -2 100 28" preserveAspectRatio="none" aria-hidden="true">' +
    '<path class="base" d="M0 24H100"/>' + paths + '</svg><div class="chart-value">' + value + '</div></div>';
}

/* One row per measure: label and scale, the last 5 minutes, the latest value. */
function charts(line, latest, now) {
  var rows = [
    ['Req/s', 'rate', function (r) { return r.requestsPerSecond; }, formatRate, 1],
    ['Errors', 'errors', function (r) { return r.errorRate; }, formatPercent, 0.01],
    ['p50', 'p50', function (r) { return r.p50; }, formatLatency, 0.01],
    ['p99', 'p99', function (r) { return r.p99; }, formatLatency, 0.01],
  ];
  return '<div class="charts">' + rows.map(function (row) {
    var pick = row[2];
    var show = row[3];
    var max = niceCeiling(peak(line, pick)) || row[4];
    return chart(row[0], 'max ' + show(max), show(latest ? pick(latest) : null), spark(line, now, pick, max, row[1]));
  }).join('') + '</div>';
}

function fact(term, value) {
  return '<div><dt>' + term + '</dt><dd>' + value + '</dd></div>';
}

function serverCard(key, server, now) {
  var line = state.history.get(key);
  var latest = latestRates(line);
  var health = serverHealth(server, line, now);
  var req = server.requests;
  var facts = fact('Weight', server.weight.effective + ' <small>(static ' + server.weight.static + ')</small>') +
    fact('In flight', req.inFlight) + fact('Queued', server.queueDepth) +
    (server.workers ? fact('Workers', server.workers.busy + ' busy · ' + server.workers.idle + ' idle · ' +
      server.workers.connecting + ' connecting') : '') +
    fact('WebSockets', server.websockets.open + ' open');
  var check = server.lastHealthCheck;
  var checkText = check ? 'Last check ' + (check.up ? 'passed' : 'failed') + ' in ' + check.latencyMs.toFixed(1) + ' ms at ' +
    clockTime(Date.parse(check.at)) : 'No health check yet';
  return '<article class="server s-' + health.state + '" data-server="' + escapeHtml(key) + '" data-state="' + health.state + '">' +
    '<div class="server-head"><div><h3>' + escapeHtml(server.name) + '</h3><div class="addr">' + escapeHtml(server.address) + '</div></div>' +
    '<span class="badge ' + health.tone + '">' + escapeHtml(health.label) + '</span></div>' +
    (health.why ? '<p class="why">' + escapeHtml(health.why) + '</p>' : '') +
    '<dl class="facts">' + facts + '</dl>' + charts(line, latest, now) +
    '<p class="foot">' + escapeHtml(checkText) + ' · ' + req.served + ' served, ' + req.failed + ' failed, ' +
    req.abandoned + ' abandoned</p></article>';
}

function poolSection(pool, now) {
  var inRotation = pool.servers.filter(function (s) { return s.inRotation; }).length;
  var tone = inRotation === pool.servers.length ? 'ok' : inRotation === 0 ? 'bad' : 'warn';
  var rejected = Object.keys(pool.rejected || {}).map(function (reason) {
    return escapeHtml(reason) + ' ' + pool.rejected[reason];
  }).join(', ');
  var cards = pool.servers.map(function (server) {
    return serverCard(keyOf(pool.name, server.name), server, now);
  }).join('');
  return '<section class="pool"><div class="pool-head"><h2>' + escapeHtml(pool.name) + '</h2>' +
    '<span class="badge ' + tone + '">' + inRotation + ' of ' + pool.servers.length + ' in rotation</span>' +
    '<span class="muted">' + escapeHtml(pool.algorithm) + ' · health checks ' + (pool.healthChecks ? 'on' : 'off') +
    (rejected ? ' · answered by the proxy: ' + rejected : '') + '</span></div>' +
    '<div class="servers">' + cards + '</div></section>';
}
`;
