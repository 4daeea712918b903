/** Shared helpers for the orchestrator tests: deferred promises, call recorders, microtask flushing. */
import type { OperationStep } from '../../src/orchestrator/index.js';

export interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise job run (one macrotask turn; no clock involved). */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How a step member behaves: succeed, throw synchronously, reject, or follow a deferred. */
export type Behaviour = 'ok' | 'throw' | 'reject' | Deferred;

export interface StepPlan {
  prepare?: Behaviour;
  commit?: Behaviour;
  rollback?: Behaviour;
}

/** Steps that record every call as "name.member" in `calls`, in call order. */
export function recorder(): { calls: string[]; step(name: string, plan?: StepPlan): OperationStep } {
  const calls: string[] = [];
  const act = (label: string, b: Behaviour = 'ok'): Promise<void> => {
    calls.push(label);
    if (b === 'ok') return Promise.resolve();
    if (b === 'throw') throw new Error(`${label} threw`);
    if (b === 'reject') return Promise.reject(new Error(`${label} failed`));
    return b.promise;
  };
  return {
    calls,
    step: (name, plan = {}) => ({
      name,
      prepare: () => act(`${name}.prepare`, plan.prepare),
      commit: () => act(`${name}.commit`, plan.commit),
      rollback: () => act(`${name}.rollback`, plan.rollback),
    }),
  };
}
