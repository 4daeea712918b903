/**
 * The per-device secret: 32 random bytes in a file only the agent's user may
 * read. It keeps the keystore sealed against anyone who copies the keystore
 * alone, with or without a passphrase.
 */
import { randomBytes } from 'node:crypto';
import { link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, readSmallFile } from '../store/index.js';
import { KeystoreError } from './errors.js';

const DEVICE_SECRET_LENGTH = 32;

/** The device secret at `path`, or undefined if there is none. Refuses it, like ssh, if group or others may access it. */
export async function readDeviceSecret(path: string): Promise<Buffer | undefined> {
  const secret = await readSmallFile(path, {
    maxBytes: DEVICE_SECRET_LENGTH,
    tooLarge: () => invalidLength(path),
    inspect: (stat) => {
      if (!stat.isFile()) throw new KeystoreError('DEVICE_SECRET_INVALID', `device secret ${path} is not a regular file`);
      if ((stat.mode & 0o077) !== 0) {
        const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
        throw new KeystoreError(
          'INSECURE_PERMISSIONS',
          `device secret ${path} has mode ${mode}, so group or others can access it; run chmod 600 ${path}`,
        );
      }
    },
  });
  if (secret !== undefined && secret.length !== DEVICE_SECRET_LENGTH) {
    secret.fill(0);
    throw invalidLength(path);
  }
  return secret;
}

function invalidLength(path: string): KeystoreError {
  return new KeystoreError('DEVICE_SECRET_INVALID', `device secret ${path} must hold exactly ${DEVICE_SECRET_LENGTH} bytes`);
}

/**
 * Creates the device secret, mode 0600. It is written and synced under a
 * temporary name, then linked into place: link() fails if the name exists, so
 * creation is exclusive and a crash never leaves a half-written secret. If
 * another process won the race, its secret is returned.
 */
export async function createDeviceSecret(path: string): Promise<Buffer> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const secret = randomBytes(DEVICE_SECRET_LENGTH);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    try {
      await handle.chmod(0o600); // whatever the umask did
      await handle.writeFile(secret);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(tmp, path);
  } catch (err) {
    secret.fill(0);
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const existing = await readDeviceSecret(path);
    if (existing === undefined) throw err;
    return existing;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await fsyncDir(dir);
  return secret;
}
