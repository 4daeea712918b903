import { open } from 'node:fs/promises';
import type { Stats } from 'node:fs';

export interface SmallFileOptions {
  /** Files larger than this are refused before anything is read. */
  readonly maxBytes: number;
  /** The caller's own typed error for a file over maxBytes. */
  readonly tooLarge: (size: number) => Error;
  /** Checks on the open file (type, permissions) before it is read; throw to refuse. */
  readonly inspect?: (stat: Stats) => void;
}

/**
 * The whole content of a small file (a key, a config, a keystore), or undefined
 * if it does not exist. Size and checks apply to the opened file itself, so a
 * file swapped between a check and the read cannot slip past them.
 */
export async function readSmallFile(path: string, opts: SmallFileOptions): Promise<Buffer | undefined> {
  if (typeof path !== 'string' || path === '') throw new TypeError('readSmallFile: path must be a non-empty string');
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 0) throw new TypeError('readSmallFile: maxBytes must be a whole number');
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const stat = await handle.stat();
    opts.inspect?.(stat);
    if (stat.size > opts.maxBytes) throw opts.tooLarge(stat.size);
    const bytes = Buffer.alloc(stat.size);
    const { bytesRead } = await handle.read(bytes, 0, stat.size, 0);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
