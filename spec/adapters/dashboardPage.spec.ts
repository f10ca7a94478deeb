import { Script, runInNewContext } from 'node:vm';
import { DASHBOARD_HTML } from '../../src/adapters/dashboardPage';
import * as format from '../../src/observability/dashboardFormat';
import * as math from '../../src/observability/dashboardMath';
import { EMBEDDED_FUNCTIONS } from '../../src/observability/dashboardScript';

const functionsOf = (module: object) =>
  Object.entries(module).filter(([, value]) => typeof value === 'function');
const exported = [...functionsOf(math), ...functionsOf(format)];

/** The page's one inline script. */
function pageScript(): string {
  const scripts = [...DASHBOARD_HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  expect(scripts).toHaveLength(1);
  return scripts[0]?.[1] ?? '';
}

describe('the dashboard page', () => {
  it('is one self-contained document: no external script, style, font or image', () => {
    expect(DASHBOARD_HTML.startsWith('<!doctype html>')).toBe(true);
    expect(DASHBOARD_HTML).not.toMatch(/<script[^>]*\ssrc=|<link\b|@import|https?:\/\//i);
    // CSS url() (lower case: the script's `new URL(` is no fetch).
    expect(DASHBOARD_HTML).not.toMatch(/url\(/);
    expect(DASHBOARD_HTML).toContain('<meta name="viewport"');
  });

  it('has a script that parses and cannot end its own element early', () => {
    const script = pageScript();
    expect(() => new Script(script)).not.toThrow();
    expect(script).not.toMatch(/<\/script|<!--/i);
  });

  it('asks for status and events with same-origin relative URLs', () => {
    const script = pageScript();
    expect(script).toContain("fetch('status', { credentials: 'same-origin'");
    expect(script).toContain("'events?type=health,worker,health-check'");
    expect(script).toContain('history.replaceState');
  });

  it('embeds every exported function of the dashboard math and text', () => {
    expect(exported.length).toBeGreaterThanOrEqual(12);
    for (const [name] of exported) expect(pageScript()).toContain(`function ${name}(`);
  });
});

describe('the embedded functions', () => {
  // Run alone in a fresh context, as the browser runs them: an import, a module variable or a
  // coverage counter would throw there.
  const embedded = runInNewContext(
    `${EMBEDDED_FUNCTIONS}\n({ ${exported.map(([name]) => name).join(', ')} })`,
    {},
  ) as Record<string, (...args: unknown[]) => unknown>;
  const bounds = [0.005, 0.01, 0.025];
  const reading = (served: number, counts: number[]) => ({
    requests: { inFlight: 0, served, failed: 1, abandoned: 0 },
    latency: { bounds, counts, sum: 0 },
  });
  const cases: [string, unknown[]][] = [
    ['histogramDelta', [reading(1, [1, 2, 3, 4]).latency, reading(9, [2, 4, 8, 9]).latency]],
    ['quantileFromBuckets', [0.9, bounds, [3, 7, 9, 10]]],
    ['serverRates', [reading(10, [5, 8, 10, 11]), reading(40, [20, 30, 38, 41]), 2]],
    ['niceCeiling', [0.37]],
    [
      'sparklinePath',
      [
        {
          times: [0, 1, 3, 4],
          values: [1, null, 2, 3],
          from: 0,
          to: 4,
          width: 40,
          height: 10,
          max: 3,
          maxGap: 2,
        },
      ],
    ],
    ['escapeHtml', ['<a href="x">&</a>']],
    ['formatLatency', [0.0123]],
    ['formatRate', [42.4]],
    ['formatPercent', [0.031]],
    ['formatDuration', [3725]],
    ['causeText', ['hook']],
    ['outText', ['ejection', 'ejected after 2 failures for 10 ms']],
    [
      'feedEntry',
      [
        { type: 'health', pool: 'http', backend: 's', healthy: false, reason: 'r', time: '' },
        String,
      ],
    ],
  ];

  it('covers every exported function', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(exported.map(([name]) => name).sort());
  });

  it.each(cases)('%s gives the same answer in the page as in the tests', (name, args) => {
    const tested = Object.fromEntries(exported)[name] as (...args: unknown[]) => unknown;
    const inPage = embedded[name];
    // JSON: the page's objects come from another realm.
    expect(JSON.stringify(inPage?.(...args))).toBe(JSON.stringify(tested(...args)));
  });
});
