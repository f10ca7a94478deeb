import { lastValueFrom, of, toArray } from 'rxjs';
import type { ProxyEvent } from '../../src/events';
import { eventFeedFor } from '../../src/streams/eventFeed';

const events: ProxyEvent[] = [
  { type: 'retry', pool: 'http', backend: 'server1', code: 'ECONNRESET' },
  { type: 'stopped', drained: true, abandoned: 0 },
];

describe('eventFeedFor', () => {
  it('names the types that are no event type', () => {
    expect(eventFeedFor(of(...events), 'retry,nope, bogus')).toEqual({
      unknown: ['nope', 'bogus'],
    });
  });

  it.each<[string | null, string[]]>([
    [null, ['retry', 'stopped']],
    ['', ['retry', 'stopped']],
    ['retry', ['retry']],
  ])('with ?type=%p sends %p as server-sent events', async (query, types) => {
    const feed = eventFeedFor(of(...events), query);
    if ('unknown' in feed) throw new Error('unexpected unknown types');
    const frames = await lastValueFrom(feed.pipe(toArray()));
    expect(frames.map((frame) => (JSON.parse(frame.slice(6)) as ProxyEvent).type)).toEqual(types);
    expect(frames.every((frame) => frame.startsWith('data: ') && frame.endsWith('\n\n'))).toBe(
      true,
    );
  });
});
