import { EMPTY, NEVER, type Observable } from 'rxjs';
import { reloadTriggers } from '../../src/streams/reloadTriggers';
import { marbles } from '../helpers/marbles';

const names = { h: 'SIGHUP', w: 'watch' } as const;
const flags = { t: true, f: false };

describe('reloadTriggers', () => {
  it('names each hang-up SIGHUP, watching nothing while watch_config is off', () => {
    marbles(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const hangups = hot('  --x---x--');
      const changes = cold('-c-c');
      const watching = cold('f', flags);
      const triggers = reloadTriggers(watching, { hangups$: hangups, watchFile: () => changes });
      expectObservable(triggers).toBe('--h---h--', names);
      expectSubscriptions(changes.subscriptions).toBe([]);
    });
  });

  it('watches from watch_config on to off, and keeps one watch across reloads that leave it on', () => {
    marbles(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const watching = hot('  t---t---f--t', flags);
      const changes = cold('  -c-c');
      const expected = '      -w-w--------w-w';
      const triggers = reloadTriggers(watching, { hangups$: NEVER, watchFile: () => changes });
      expectObservable(triggers).toBe(expected, names);
      expectSubscriptions(changes.subscriptions).toBe(['^-------!', '-----------^']);
    });
  });

  it('merges hang-ups and changes in the order they come', () => {
    marbles(({ cold, hot, expectObservable }) => {
      const hangups = hot('  ---x----x');
      const watching = cold('t', flags);
      const changes = cold(' -c---c');
      const triggers = reloadTriggers(watching, { hangups$: hangups, watchFile: () => changes });
      expectObservable(triggers).toBe('-w-h-w--h', names);
    });
  });

  it('never emits with no hang-up and no watch (never), and keeps the watch when the configs end (empty)', () => {
    marbles(({ cold, expectObservable }) => {
      const watchFile = (): Observable<unknown> => cold('--c|');
      expectObservable(reloadTriggers(NEVER, { hangups$: NEVER, watchFile })).toBe('-');
      expectObservable(reloadTriggers(EMPTY, { hangups$: EMPTY, watchFile })).toBe('|');
      expectObservable(reloadTriggers(cold('(t|)', flags), { hangups$: EMPTY, watchFile })).toBe(
        '--w|',
        names,
      );
    });
  });

  it('passes an error of the hang-ups on', () => {
    marbles(({ cold, expectObservable }) => {
      const hangups = cold('-x-#', {}, new Error('signals'));
      const triggers = reloadTriggers(NEVER, { hangups$: hangups, watchFile: () => NEVER });
      expectObservable(triggers).toBe('-h-#', names, new Error('signals'));
    });
  });

  it('stops watching when unsubscribed', () => {
    marbles(({ cold, expectObservable, expectSubscriptions }) => {
      const changes = cold('-c-c-c-c');
      const hangups = cold('--------');
      const triggers = reloadTriggers(cold('t', flags), {
        hangups$: hangups,
        watchFile: () => changes,
      });
      expectObservable(triggers, '^----!').toBe('-w-w-', names);
      expectSubscriptions(changes.subscriptions).toBe('^----!');
      expectSubscriptions(hangups.subscriptions).toBe('^----!');
    });
  });
});
