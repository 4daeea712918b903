import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A valid profile to break one field at a time. */
export function sampleProfile(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'test-board',
    name: 'Test board',
    match: ['Test Board Model T'],
    arch: 'arm64',
    cores: 4,
    memoryMiB: 1024,
    memoryBudgetMiB: 256,
    peerMapMaxPeers: 16384,
    networkInterface: 'eth0',
    ethernet: { interface: 'eth0', ptpHardwareClock: false },
    thermal: { throttleC: 80, criticalC: 85 },
    notes: '',
    ...overrides,
  };
}

/** A temp folder of profile files (name → JSON value, raw text or raw bytes), removed by the returned cleanup. */
export async function profileDir(files: Record<string, unknown>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-agent-board-'));
  for (const [name, content] of Object.entries(files)) {
    const raw = typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content, null, 2);
    await writeFile(join(dir, name), raw);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
