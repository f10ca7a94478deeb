/*
 * The page's event feed: plain browser JavaScript inside a String.raw template (no backticks and
 * no dollar-brace in it), run inside the script of dashboardScript.ts.
 */
export const DASHBOARD_FEED = String.raw`
/* repeatKey -> { item, count, since, server }: the feed line that repeats of it update. */
var repeats = new Map();

function feedItemHtml(event, entry, count, since) {
  var time = Date.parse(event.time);
  var times = count > 1 ? ' · ' + count + ' times since ' + clockTime(since) : '';
  return '<time>' + (isNaN(time) ? '' : clockTime(time)) + '</time>' +
    '<span class="badge ' + entry.tone + '">' + escapeHtml(entry.label) + '</span>' +
    '<div class="text"><div>' + escapeHtml(entry.title) + '</div><div class="muted">' +
    escapeHtml(entry.detail + times) + '</div></div>';
}

/* A change of a server's health ends the run of repeats about it. */
function endRepeats(server) {
  repeats.forEach(function (repeat, key) { if (repeat.server === server) repeats.delete(key); });
}

function addToFeed(event, entry, max) {
  var list = document.getElementById('feed');
  var key = entry.repeatKey;
  var repeat = key ? repeats.get(key) : undefined;
  if (!repeat || repeat.item.parentNode !== list) {
    repeat = { item: document.createElement('li'), count: 0, since: Date.parse(event.time), server: keyOf(event.pool, event.backend) };
    repeat.item.className = 'event';
    repeat.item.dataset.type = event.type;
  }
  repeat.count++;
  repeat.item.innerHTML = feedItemHtml(event, entry, repeat.count, repeat.since);
  list.insertBefore(repeat.item, list.firstChild);
  if (key) repeats.set(key, repeat);
  while (list.children.length > max) list.removeChild(list.lastChild);
  document.getElementById('feed-empty').hidden = true;
}
`;
