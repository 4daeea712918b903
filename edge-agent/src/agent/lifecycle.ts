/**
 * Starts services in order and stops them in reverse, within a deadline.
 * The lifecycle knows nothing about what the services are: the agent's
 * composition root hands it a list.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type AgentState = 'created' | 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

export interface StopReport {
  /** Services that did not stop before the deadline, or whose stop threw. */
  readonly unclean: readonly { name: string; reason: string }[];
  readonly elapsedMs: number;
}

export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
  constructor(
    readonly code: 'START_FAILED' | 'BAD_STATE' | 'BAD_SERVICES',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Lifecycle {
  private current: AgentState = 'created';
  private readonly started: Service[] = [];
  private readonly listeners = new Set<(state: AgentState) => void>();

  constructor(private readonly services: readonly Service[]) {
    const names = new Set<string>();
    for (const s of services) {
      if (typeof s?.name !== 'string' || typeof s.start !== 'function' || typeof s.stop !== 'function') {
        throw new LifecycleError('BAD_SERVICES', 'every service needs a name, start() and stop()');
      }
      if (names.has(s.name)) throw new LifecycleError('BAD_SERVICES', `service "${s.name}" is listed twice`);
      names.add(s.name);
    }
  }

  get state(): AgentState {
    return this.current;
  }

  /** Calls `fn` on every state change; returns a function that unsubscribes. */
  onState(fn: (state: AgentState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(state: AgentState): void {
    this.current = state;
    for (const fn of this.listeners) fn(state);
  }

  /**
   * Starts every service in order. If one fails, the ones already started are
   * stopped in reverse and the error names the service that failed.
   */
  async start(stopDeadlineMs: number): Promise<void> {
    if (this.current !== 'created') throw new LifecycleError('BAD_STATE', `cannot start from state ${this.current}`);
    this.set('starting');
    for (const service of this.services) {
      try {
        await service.start();
        this.started.push(service);
      } catch (err) {
        await this.stopStarted(stopDeadlineMs);
        this.set('failed');
        throw new LifecycleError('START_FAILED', `${service.name}: ${reasonOf(err)}`, { cause: err });
      }
    }
    this.set('ready');
  }

  /** Stops started services in reverse order; a service still stopping at the deadline is abandoned and reported. */
  async stop(deadlineMs: number): Promise<StopReport> {
    if (this.current === 'stopped' || this.current === 'stopping') {
      throw new LifecycleError('BAD_STATE', `cannot stop from state ${this.current}`);
    }
    this.set('stopping');
    const report = await this.stopStarted(deadlineMs);
    this.set('stopped');
    return report;
  }

  private async stopStarted(deadlineMs: number): Promise<StopReport> {
    const begin = performance.now();
    const unclean: { name: string; reason: string }[] = [];
    let expired = false;
    while (this.started.length > 0) {
      const service = this.started.pop()!;
      const left = deadlineMs - (performance.now() - begin);
      if (expired || left <= 0) {
        unclean.push({ name: service.name, reason: 'not stopped: shutdown deadline passed' });
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), left);
      });
      try {
        const outcome = await Promise.race([service.stop().then(() => 'stopped' as const), timeout]);
        if (outcome === 'timeout') {
          expired = true;
          unclean.push({ name: service.name, reason: `still stopping after ${Math.round(left)} ms` });
        }
      } catch (err) {
        unclean.push({ name: service.name, reason: reasonOf(err) });
      } finally {
        clearTimeout(timer);
      }
    }
    return { unclean, elapsedMs: performance.now() - begin };
  }
}
