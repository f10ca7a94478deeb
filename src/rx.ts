/*
 * The parts of RxJS the proxy uses, each from its own module. The package's index loads all 223
 * of its modules, 1.4 MiB more resident memory in an idle proxy than the 85 these bring; the
 * proxy's sources import RxJS from here instead (tests and the benchmark may use the index). The
 * modules are the ones the index itself re-exports, so classes and types are the same.
 */
export { BehaviorSubject } from 'rxjs/internal/BehaviorSubject';
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { Subscriber } from 'rxjs/internal/Subscriber';
export { Subscription } from 'rxjs/internal/Subscription';
export { config } from 'rxjs/internal/config';
export { firstValueFrom } from 'rxjs/internal/firstValueFrom';
export { lastValueFrom } from 'rxjs/internal/lastValueFrom';
export type {
  ObservableInput,
  Observer,
  OperatorFunction,
  SchedulerLike,
} from 'rxjs/internal/types';
export { asyncScheduler } from 'rxjs/internal/scheduler/async';
export { isObservable } from 'rxjs/internal/util/isObservable';

export { EMPTY } from 'rxjs/internal/observable/empty';
export { concat } from 'rxjs/internal/observable/concat';
export { defer } from 'rxjs/internal/observable/defer';
export { from } from 'rxjs/internal/observable/from';
export { interval } from 'rxjs/internal/observable/interval';
export { merge } from 'rxjs/internal/observable/merge';
export { of } from 'rxjs/internal/observable/of';
export { timer } from 'rxjs/internal/observable/timer';

export { bufferTime } from 'rxjs/internal/operators/bufferTime';
export { catchError } from 'rxjs/internal/operators/catchError';
export { concatMap } from 'rxjs/internal/operators/concatMap';
export { defaultIfEmpty } from 'rxjs/internal/operators/defaultIfEmpty';
export { distinctUntilChanged } from 'rxjs/internal/operators/distinctUntilChanged';
export { exhaustMap } from 'rxjs/internal/operators/exhaustMap';
export { filter } from 'rxjs/internal/operators/filter';
export { finalize } from 'rxjs/internal/operators/finalize';
export { map } from 'rxjs/internal/operators/map';
export { mergeMap } from 'rxjs/internal/operators/mergeMap';
export { pairwise } from 'rxjs/internal/operators/pairwise';
export { share } from 'rxjs/internal/operators/share';
export { shareReplay } from 'rxjs/internal/operators/shareReplay';
export { startWith } from 'rxjs/internal/operators/startWith';
export { switchMap } from 'rxjs/internal/operators/switchMap';
export { take } from 'rxjs/internal/operators/take';
export { takeUntil } from 'rxjs/internal/operators/takeUntil';
export { tap } from 'rxjs/internal/operators/tap';
export { timeout } from 'rxjs/internal/operators/timeout';
