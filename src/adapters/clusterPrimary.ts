import cluster, { type Worker } from 'node:cluster';
import { isToPrimary, type ToPrimary, type ToWorker } from '../cluster/messages';
import { restartDelay } from '../cluster/restartBackoff';

/** What the fleet tells its owner, for the log. */
export type FleetNote =
  | { readonly action: 'started'; readonly pid: number }
  | {
      readonly action: 'died';
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      /** When the replacement is forked. */
      readonly restartInMs: number;
    };

export interface FleetDeps {
  /** Environment added to each worker's. */
  readonly env: Readonly<Record<string, string>>;
  readonly onMessage: (worker: Worker, message: ToPrimary) => void;
  /** A worker is gone (died or stopped): what it asked for is no longer needed. */
  readonly onGone: (worker: Worker) => void;
  /** A worker listens (at the start, or a replacement). */
  readonly onStarted?: (worker: Worker) => void;
  readonly note: (note: FleetNote) => void;
}

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  /** The delay of the last replacement in this slot (undefined: none yet). */
  lastDelayMs: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * N worker processes forked with node:cluster that share the front door's listening socket:
 * node:cluster's primary accepts connections and hands them to the workers in turn. (Node 22's
 * `reusePort` would let each worker bind its own SO_REUSEPORT socket and the kernel spread the
 * connections, without the primary's accept loop: the workers would then listen with
 * `reusePort: true` instead of through the primary, and the rest of this fleet stays.)
 *
 * A worker that dies while the fleet runs is logged and replaced; quick deaths in a row back
 * off (see restartDelay).
 */
export class WorkerFleet {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly listeners = new Map<Worker, () => void>();

  constructor(
    count: number,
    private readonly deps: FleetDeps,
  ) {
    this.slots = Array.from({ length: count }, () => ({
      worker: undefined,
      startedAt: 0,
      lastDelayMs: undefined,
      timer: undefined,
    }));
  }

  /**
   * Forks every worker; resolves true once each listens, false as soon as one exits first
   * (it could not start: it logged why). The fleet is then stopped.
   */
  async start(): Promise<boolean> {
    const started = await Promise.all(this.slots.map((slot) => this.fork(slot, true)));
    if (started.every(Boolean)) return true;
    await this.stop();
    return false;
  }

  /** The workers alive now. */
  get workers(): Worker[] {
    return this.slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  }

  send(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message, undefined, () => undefined);
  }

  broadcast(message: ToWorker, except?: Worker): void {
    for (const worker of this.workers) if (worker !== except) this.send(worker, message);
  }

  /**
   * Resolves true when the worker listens, false if it exits before. A worker of the first
   * start that never listened is not replaced (start() fails); a replacement always is.
   */
  private fork(slot: Slot, initial = false): Promise<boolean> {
    const worker = cluster.fork(this.deps.env);
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.timer = undefined;
    const onMessage = (message: unknown) => {
      if (isToPrimary(message)) this.deps.onMessage(worker, message);
    };
    worker.on('message', onMessage);
    // A failed send answers through its callback and a dead worker through 'exit': an 'error'
    // event adds nothing, but one without a listener would throw in the primary.
    worker.on('error', ignoreWorkerError);
    return new Promise<boolean>((resolve) => {
      let listening = false;
      const onListening = () => {
        if (listening) return;
        listening = true;
        this.deps.note({ action: 'started', pid: worker.process.pid ?? 0 });
        this.deps.onStarted?.(worker);
        resolve(true);
      };
      const onExit = (code: number | null, signal: string | null) => {
        worker.off('message', onMessage);
        worker.off('listening', onListening);
        this.listeners.delete(worker);
        if (slot.worker === worker) slot.worker = undefined;
        this.deps.onGone(worker);
        if (!listening) resolve(false);
        if (this.stopping || (initial && !listening)) return;
        const delay = restartDelay(slot.lastDelayMs, Date.now() - slot.startedAt);
        slot.lastDelayMs = delay;
        this.deps.note({
          action: 'died',
          pid: worker.process.pid ?? 0,
          code,
          signal,
          restartInMs: delay,
        });
        slot.timer = setTimeout(() => void this.fork(slot), delay);
      };
      worker.on('listening', onListening);
      worker.once('exit', onExit);
      this.listeners.set(worker, () => {
        worker.off('error', ignoreWorkerError);
        worker.off('message', onMessage);
        worker.off('listening', onListening);
        worker.off('exit', onExit);
      });
    });
  }

  /** Every worker gets SIGTERM (it drains as a single process does); resolves once all exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits: Array<Promise<void>> = [];
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      const worker = slot.worker;
      if (!worker || worker.isDead()) continue;
      exits.push(new Promise<void>((resolve) => worker.once('exit', () => resolve())));
      worker.process.kill('SIGTERM');
    }
    await Promise.all(exits);
    for (const remove of this.listeners.values()) remove();
    this.listeners.clear();
  }

  /** Ends every worker at once (a second signal). */
  kill(): void {
    this.stopping = true;
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      slot.worker?.process.kill('SIGKILL');
    }
  }
}

function ignoreWorkerError(): void {}
