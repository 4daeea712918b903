/**
 * Where a command from MQTT is judged and carried out: the verifier decides
 * (signature, address, time, arguments, replay), the audit trail records the
 * decision, and a handler per command name acts on the agent. Every outcome,
 * refusal included, becomes the result published on …/cmd/result.
 */
import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/index.js';
import type { Clock } from '../clock/index.js';
import {
  failureResult,
  rejectionResult,
  successResult,
  type Command,
  type CommandResult,
  type CommandVerifier,
} from '../commands/index.js';
import type { Counter } from '../metrics/index.js';
import { SealedConfigError } from './sealed-config.js';

/** What the handlers may touch, supplied by the agent. */
export interface CommandTargets {
  state(): string;
  reportNow(): Promise<void>;
  setLogLevel(level: string): void;
  enterMaintenance(reason: string): Promise<void>;
  leaveMaintenance(): Promise<void>;
  restart(delayMs: number): void;
  /** A committee signature over `message` (committee members with the key only; refusals carry a code). */
  committeeSign(message: Uint8Array): Promise<{ readonly signature: Uint8Array; readonly groupKey: Uint8Array; readonly signers: readonly number[] }>;
  /** One KV operation ordered through the committee's PBFT (members of a committee of 4 or more; refusals carry a code). */
  committeeOrder(request: {
    readonly op: 'put' | 'get' | 'delete';
    readonly key: string;
    readonly value?: Uint8Array;
  }): Promise<{ readonly ok: boolean; readonly value?: Uint8Array; readonly error?: string; readonly view: number; readonly seq: number }>;
  /**
   * Seals `value` as `attribute` of this agent's config record for the `readers` (peer ids with open channels);
   * refusals carry a code (NOT_CONNECTED, ...). Optional while an agent runs no sealed service: STOPPED then.
   */
  sealConfig?(request: { readonly attribute: string; readonly value: Uint8Array; readonly readers: readonly string[] }): Promise<{ readonly record: string; readonly state: number }>;
  /** Reads `attribute` of sealed `record` (hex), pulled from peer `from`; refusals carry a code (NOT_AUTHORIZED, NOT_FOUND, ...). */
  readSealed?(request: { readonly record: string; readonly attribute: string; readonly from: string }): Promise<{ readonly value: Uint8Array; readonly state: number }>;
}

export interface CommandDeskOptions {
  readonly verifier: CommandVerifier;
  readonly targets: CommandTargets;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly log: Logger;
  readonly accepted: Counter;
  readonly rejected: Counter;
}

export class CommandDesk {
  constructor(private readonly o: CommandDeskOptions) {}

  /** Never throws: a failure becomes a result. */
  async handle(payload: Uint8Array): Promise<CommandResult> {
    const { verifier, audit, clock, log } = this.o;
    const verdict = await verifier.verify(payload);
    if (!verdict.ok) {
      this.o.rejected.inc();
      log.warn({ event: 'command', outcome: 'rejected', reason: verdict.reason, id: verdict.id }, `command rejected: ${verdict.reason}`);
      await audit.append('command.rejected', { reason: verdict.reason, ...(verdict.id ? { id: verdict.id } : {}) }).catch(() => {});
      return rejectionResult(verdict, clock.now());
    }
    const command = verdict.command;
    this.o.accepted.inc();
    log.info({ event: 'command', outcome: 'accepted', name: command.name, id: command.id, signer: command.signer.id }, `command ${command.name}`);
    await audit.append('command.accepted', { id: command.id, name: command.name, signer: command.signer.id });
    try {
      return successResult(command, await this.#run(command), clock.now());
    } catch (err) {
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'FAILED';
      return failureResult(command, code, err instanceof Error ? err.message : String(err), clock.now());
    }
  }

  async #run(command: Command): Promise<Record<string, unknown>> {
    const t = this.o.targets;
    switch (command.name) {
      case 'ping':
        return { pong: true, state: t.state() };
      case 'report-now':
        await t.reportNow();
        return {};
      case 'set-log-level':
        t.setLogLevel(command.args.level);
        return { level: command.args.level };
      case 'enter-maintenance':
        await t.enterMaintenance(command.args.reason ?? 'operator command');
        return { state: t.state() };
      case 'leave-maintenance':
        await t.leaveMaintenance();
        return { state: t.state() };
      case 'restart': {
        const delayMs = command.args.delayMs ?? 1000;
        t.restart(delayMs);
        return { restartingInMs: delayMs };
      }
      case 'committee-sign': {
        const signed = await t.committeeSign(new Uint8Array(Buffer.from(command.args.message, 'hex')));
        return { signature: hex(signed.signature), groupKey: hex(signed.groupKey), signers: [...signed.signers] };
      }
      case 'committee-order': {
        const { op, key, value } = command.args;
        const done = await t.committeeOrder({ op, key, ...(value !== undefined ? { value: new Uint8Array(Buffer.from(value, 'hex')) } : {}) });
        return {
          ok: done.ok,
          ...(done.value !== undefined ? { value: hex(done.value) } : {}),
          ...(done.error !== undefined ? { error: done.error } : {}),
          view: done.view,
          seq: done.seq,
        };
      }
      case 'seal-config': {
        if (t.sealConfig === undefined) throw noSealedService();
        const { attribute, value, readers } = command.args;
        const bytes = new Uint8Array(Buffer.from(value, 'hex'));
        try {
          const sealed = await t.sealConfig({ attribute, value: bytes, readers: readers.split(',') });
          return { record: sealed.record, state: sealed.state };
        } finally {
          bytes.fill(0);
        }
      }
      case 'read-sealed': {
        if (t.readSealed === undefined) throw noSealedService();
        const read = await t.readSealed({ record: command.args.record, attribute: command.args.attribute, from: command.args.from });
        try {
          // The value goes back to the operator who asked, on the result topic: the sealing ends here.
          return { value: hex(read.value), state: read.state };
        } finally {
          read.value.fill(0);
        }
      }
    }
  }
}

const noSealedService = (): SealedConfigError => new SealedConfigError('STOPPED', 'this agent runs no sealed config service');

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
