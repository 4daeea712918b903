/** Shared by the provision tests: a 7-board fleet of mixed models, and temp dirs. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';

export const BOARD_IDS = ['generic-arm64', 'rpi-4b', 'rpi-5', 'rpi-cm4', 'rpi-zero-2w', 'x86-64-dev'];
export const OPERATOR_KEY = Buffer.from(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)).toString('hex');
export const SEED_KEY = Buffer.from(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)).toString('hex');

export interface BoardEntry {
  hostname: string;
  board: string;
  role: 'committee' | 'worker';
  addresses: string[];
}

/** 3 committee members and 4 workers on four board models; difficulty 4 keeps the proof of work instant. */
export function sevenBoards(): { fleet: Record<string, unknown>; boards: BoardEntry[] } {
  return {
    fleet: {
      name: 'greenhouse',
      broker: 'mqtts://broker.lan:8883',
      bootstrap: [`${SEED_KEY}@seed.example.org:7450`],
      committee: { size: 3, threshold: 2 },
      operators: [{ name: 'alice', publicKey: OPERATOR_KEY }],
      powDifficulty: 4,
    },
    boards: [
      { hostname: 'pi-01', board: 'rpi-4b', role: 'committee', addresses: ['10.0.0.11'] },
      { hostname: 'pi-02', board: 'rpi-5', role: 'committee', addresses: ['10.0.0.12', 'pi-02.lan'] },
      { hostname: 'pi-03', board: 'rpi-cm4', role: 'committee', addresses: ['10.0.0.13:7460'] },
      { hostname: 'pi-04', board: 'rpi-4b', role: 'worker', addresses: ['[fd00::14]'] },
      { hostname: 'pi-05', board: 'rpi-5', role: 'worker', addresses: ['10.0.0.15'] },
      { hostname: 'pi-06', board: 'rpi-cm4', role: 'worker', addresses: ['10.0.0.16'] },
      { hostname: 'dev-07', board: 'x86-64-dev', role: 'worker', addresses: ['dev-07.lan'] },
    ],
  };
}

export async function tempDir(t: { teardown(fn: () => Promise<void>): void }, name = 'edge-agent-provision-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), name));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function writeJson(path: string, value: unknown): Promise<string> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}
