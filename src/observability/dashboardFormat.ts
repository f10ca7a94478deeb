import type { OutOfRotationCause, ProxyEventOf } from '../events';

/*
 * Text for the dashboard page. Like dashboardMath.ts, the page embeds these functions' compiled
 * source, so each one stays self-contained.
 */

/** Text safe to put inside HTML elements and quoted attributes. */
export function escapeHtml(text: string): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A latency in seconds as `0.42 ms`, `7.5 ms`, `120 ms`, `1.25 s` or `2 s`; a dash for none. */
export function formatLatency(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const ms = seconds * 1000;
  if (ms < 1) return Number(ms.toFixed(2)) + ' ms';
  if (ms < 10) return Number(ms.toFixed(1)) + ' ms';
  if (ms < 999.5) return Math.round(ms) + ' ms';
  return Number(seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)) + ' s';
}

/** A rate per second as `0`, `3.4`, `1`, `120` or `1.2k`. */
export function formatRate(perSecond: number): string {
  if (!(perSecond > 0)) return '0';
  if (perSecond < 9.95) return String(Number(perSecond.toFixed(1)));
  if (perSecond < 999.5) return String(Math.round(perSecond));
  return (perSecond / 1000).toFixed(1) + 'k';
}

/** A fraction as a percentage: `0%`, `<0.1%`, `2.5%`, `5%`, `40%`; a dash for none. */
export function formatPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '–';
  if (fraction <= 0) return '0%';
  if (fraction < 0.001) return '<0.1%';
  if (fraction < 0.0995) return Number((fraction * 100).toFixed(1)) + '%';
  return Math.round(fraction * 100) + '%';
}

/** A duration as `12s`, `4m 05s`, `3h 07m` or `2d 5h`. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const pad = (n: number) => (n < 10 ? '0' : '') + n;
  if (total < 60) return total + 's';
  if (total < 3600) return Math.floor(total / 60) + 'm ' + pad(total % 60) + 's';
  if (total < 86400)
    return Math.floor(total / 3600) + 'h ' + pad(Math.floor(total / 60) % 60) + 'm';
  return Math.floor(total / 86400) + 'd ' + (Math.floor(total / 3600) % 24) + 'h';
}

/** What took a server out of rotation, in words. */
export function causeText(cause: OutOfRotationCause | undefined): string {
  if (cause === 'ejection') return 'Ejected';
  if (cause === 'hook') return 'Taken out by a hook';
  return 'Failed health checks';
}

/**
 * Why a server is out of rotation: its cause and the proxy's reason, without the words the two
 * share (`ejected after 5 failures…` reads `Ejected after 5 failures…`).
 */
export function outText(cause: OutOfRotationCause | undefined, reason: string | undefined): string {
  const said = causeText(cause);
  const text = (reason ?? '').trim();
  if (cause === 'ejection' && /^ejected\b/i.test(text)) return said + text.slice('ejected'.length);
  const rest =
    cause === 'ejection' || cause === 'hook' ? text : text.replace(/^health check:\s*/i, '');
  return rest ? said + ': ' + rest : said;
}

/** The events the page's feed shows, as they arrive from `/events` (with the time sent). */
export type FeedEvent = (
  ProxyEventOf<'health'> | ProxyEventOf<'health-check'> | ProxyEventOf<'worker'>
) & { readonly time: string };

export interface FeedEntry {
  /** The colour and word of its badge: ok (green), warn (amber), bad (red), info (grey). */
  readonly tone: 'ok' | 'warn' | 'bad' | 'info';
  readonly label: string;
  readonly title: string;
  readonly detail: string;
  /** Entries with the same key in a row (a server failing every probe) are shown as one. */
  readonly repeatKey?: string;
}

/**
 * One line of the event feed, or null for events it leaves out (passed health checks, workers
 * that connected). `clock` formats a time (ms since the epoch) for returns after an ejection.
 */
export function feedEntry(event: FeedEvent, clock: (ms: number) => string): FeedEntry | null {
  if (event.type === 'health') {
    const where = 'pool ' + event.pool;
    if (event.healthy) {
      return { tone: 'ok', label: 'Up', title: event.backend + ' back in rotation', detail: where };
    }
    const back = event.returnsAt === undefined ? '' : ' · returns at ' + clock(event.returnsAt);
    const why = outText(event.cause, event.reason);
    return {
      tone: 'bad',
      label: 'Down',
      title: event.backend + ' out of rotation',
      detail: why + back + ' · ' + where,
    };
  }
  if (event.type === 'health-check') {
    if (event.up) return null;
    return {
      tone: event.healthy ? 'warn' : 'bad',
      label: 'Check',
      title: event.backend + ' failed a health check',
      detail:
        (event.reason ?? 'no reason given') +
        ' · ' +
        Math.round(event.latencyMs) +
        ' ms' +
        (event.healthy ? ' · still in rotation' : ''),
      repeatKey: ['health-check', event.pool, event.backend, event.reason ?? ''].join(' '),
    };
  }
  if (event.type === 'worker' && event.action !== 'connected') {
    const why = event.reason ? ' (' + event.reason + ')' : '';
    const error = event.error ? ': ' + event.error : '';
    const count = event.workers + (event.workers === 1 ? ' worker' : ' workers') + ' now';
    return {
      tone: event.action === 'lost' ? 'warn' : 'info',
      label: 'Worker',
      title: event.backend + ' worker ' + event.worker + ' ' + event.action + why + error,
      detail: count,
    };
  }
  return null;
}
