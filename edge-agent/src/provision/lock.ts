/**
 * One provisioning run per output directory at a time: two would race to mint
 * the same board. The lock is a file created exclusively, holding the pid.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvisionError } from './errors.js';

export const LOCK_FILE = '.provision.lock';

/** Takes the lock in `dir`; resolves with the function that releases it. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new ProvisionError(
      'LOCKED',
      `${path} exists: another provisioning run is using ${dir} (or one was killed; remove the file if no run is going on)`,
    );
  }
  try {
    await handle.writeFile(`${process.pid}\n`);
  } finally {
    await handle.close();
  }
  return async () => {
    await unlink(path).catch(() => {});
  };
}
