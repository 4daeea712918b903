import type { FileHandle } from 'node:fs/promises';
import { LogError, ioError } from './errors.js';

/**
 * Positional reads over a file of known size. Every buffer the scanner uses comes
 * from read(), and read() is only ever asked for bytes that exist, so a declared
 * length can never make the scanner allocate more than the file holds.
 */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `position`; position + length <= size. */
  read(position: number, length: number): Promise<Uint8Array>;
}

export function fileSource(handle: FileHandle, name: string, size: number): ByteSource {
  return {
    name,
    size,
    async read(position, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        let got: number;
        try {
          ({ bytesRead: got } = await handle.read(out, done, length - done, position + done));
        } catch (err) {
          throw ioError(name, `reading at byte ${position + done}`, err);
        }
        // The file shrank under us: someone else is writing it.
        if (got === 0) throw new LogError('IO', `log ${name}: ends at byte ${position + done}, expected ${size} bytes; was it truncated meanwhile?`);
        done += got;
      }
      return out;
    },
  };
}
