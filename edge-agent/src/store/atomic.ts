import { link, open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces the file at `path` with `data` so that after a power cut at any
 * instant the file holds either the old or the new content, never a mix:
 * write a temporary file beside it, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, opts: { mode?: number } = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new TypeError('writeFileAtomic: path must be a non-empty string');
  if (!(data instanceof Uint8Array)) throw new TypeError('writeFileAtomic: data must be a Uint8Array');
  const mode = opts.mode ?? 0o644;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', mode);
  try {
    await file.writeFile(data);
    await file.chmod(mode); // the umask may have narrowed or widened what open() set
    await file.sync();
  } catch (err) {
    await file.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
}

/** Makes a rename or a file creation in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` holding `data` unless it already exists, so that after a power cut
 * the file is either absent or complete: the content is written and fsynced under a
 * temporary name, then hard-linked into place (link fails if the name is taken,
 * where rename would replace a file someone else just created).
 * Resolves true if this call created the file, false if it existed.
 */
export async function createFileAtomic(path: string, data: Uint8Array, opts: { mode?: number } = {}): Promise<boolean> {
  if (typeof path !== 'string' || path === '') throw new TypeError('createFileAtomic: path must be a non-empty string');
  if (!(data instanceof Uint8Array)) throw new TypeError('createFileAtomic: data must be a Uint8Array');
  const mode = opts.mode ?? 0o644;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', mode);
  let created: boolean;
  try {
    try {
      await file.writeFile(data);
      await file.chmod(mode);
      await file.sync();
    } finally {
      await file.close();
    }
    created = await link(tmp, path).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return false;
        throw err;
      },
    );
  } finally {
    await unlink(tmp).catch(() => {}); // the temporary name only; the content lives on under `path`
  }
  await fsyncDir(dir);
  return created;
}
