/** n members on loopback, each with a Messenger for the committee's messages, every pair joined by a channel. */
import type { ExecutionContext } from 'ava';
import { withDkgMessages, withThresholdMessages } from '../../src/threshold/index.js';
import { Messenger } from '../../src/transport/index.js';
import { coreMessages } from '../../src/wire/index.js';
import { address, startManager, until } from '../transport/net-helpers.js';

export const registry = withDkgMessages(withThresholdMessages(coreMessages));

export async function fullMesh(t: ExecutionContext, n: number) {
  const started = await Promise.all(Array.from({ length: n }, () => startManager()));
  const messengers = started.map((s) => new Messenger({ manager: s.manager, registry }));
  t.teardown(async () => {
    for (const m of messengers) m.close();
    await Promise.all(started.map((s) => s.manager.close()));
  });
  // Broadcasts go member to member.
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) await started[i]!.manager.dial(address(started[j]!.keys, started[j]!.port));
  await until(() => started.every((s) => s.manager.channels().length === n - 1), 10_000, 'full mesh');
  /** Member number -> identity public key, as runDkg and runRefresh take it. */
  const roster = new Map(started.map((s, i) => [i + 1, s.keys.publicKey] as const));
  return { started, messengers, roster };
}
