/** Copying into a bundle: plain files and folders only, with modes we choose. */
import { chmodSync, closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { BundleError } from './errors.js';

/**
 * sha256sum escapes backslashes and newlines in names, and the install script reads
 * names line by line: a bundle carries neither, nor any other control character.
 */
const UNSAFE_NAME = /[\u0000-\u001f\u007f\\]/;

export function checkName(rel: string): void {
  if (UNSAFE_NAME.test(rel)) {
    throw new BundleError('UNSAFE_PATH', `${JSON.stringify(rel)}: a bundle cannot carry a name with a control character or a backslash`);
  }
}

/** The first `n` bytes of a file (fewer if it is shorter): enough for an ELF header. */
export function readHead(file: string, n: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(n);
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** Executables stay executable, everything else is read-only data: 0755 or 0644. */
export function copyFile(src: string, dst: string, mode?: number): void {
  copyFileSync(src, dst);
  chmodSync(dst, mode ?? ((statSync(src).mode & 0o111) !== 0 ? 0o755 : 0o644));
}

export function makeDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
}

/** Decides, for a path relative to the tree being copied, whether it goes in. */
export type CopyFilter = (rel: string, isDir: boolean) => boolean;

/**
 * Copies the tree at `src` into `dst`. A symbolic link is copied as the file it points
 * to when that file lies inside `within` (the checkout); anything else is refused, so
 * that a bundle never carries a link or a file from outside the project.
 */
export function copyTree(src: string, dst: string, within: string, filter: CopyFilter = () => true, rel = ''): number {
  makeDir(dst);
  let count = 0;
  for (const entry of readdirSync(src, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel === '' ? entry.name : `${rel}/${entry.name}`;
    checkName(r);
    const from = join(src, entry.name);
    const to = join(dst, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const real = realpathSync(from);
      const inside = relative(within, real);
      if (inside.startsWith(`..${sep}`) || inside === '..' || !lstatSync(real).isFile()) {
        throw new BundleError('UNSAFE_PATH', `${from}: a link to ${real}, which is not a file inside ${within}`);
      }
      isFile = true;
      isDir = false;
    }
    if (!filter(r, isDir)) continue;
    if (isDir) count += copyTree(from, to, within, filter, r);
    else if (isFile) {
      copyFile(from, to);
      count += 1;
    } else {
      throw new BundleError('UNSAFE_PATH', `${from}: neither a file nor a folder`);
    }
  }
  return count;
}
