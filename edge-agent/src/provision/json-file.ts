/** Reading the small JSON files provisioning consumes (the manifest, the last inventory) with typed failures. */
import { locateJsonError } from '../config/index.js';
import { readSmallFile } from '../store/index.js';
import { ProvisionError, type ProvisionErrorCode } from './errors.js';

/** A manifest for a few hundred boards is tens of KiB; anything near this is the wrong file. */
export const MAX_JSON_BYTES = 4 << 20;

/**
 * The decoded JSON at `path`, or undefined if there is no file. Every other
 * failure is a ProvisionError whose message starts with `path`; a file that is
 * not JSON gets `badJson` as its code.
 */
export async function readJsonFile(path: string, badJson: ProvisionErrorCode): Promise<unknown> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readSmallFile(path, {
      maxBytes: MAX_JSON_BYTES,
      tooLarge: (size) => new ProvisionError('UNREADABLE', `${path}: expected at most ${MAX_JSON_BYTES} bytes, got ${size}`),
      inspect: (stat) => {
        if (!stat.isFile()) throw new ProvisionError('UNREADABLE', `${path}: expected a regular file, got ${stat.isDirectory() ? 'a directory' : 'a device, socket or pipe'}`);
      },
    });
  } catch (err) {
    if (err instanceof ProvisionError) throw err;
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
    throw new ProvisionError('UNREADABLE', `${path}: the file cannot be read (${code})`, { cause: err });
  }
  if (bytes === undefined) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ProvisionError(badJson, `${path}: expected UTF-8 text, got bytes that are not valid UTF-8`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = locateJsonError(text);
    const detail = at ? ` at line ${at.line}, column ${at.column}: expected ${at.expected}, got ${at.got}` : '';
    throw new ProvisionError(badJson, `${path}: not valid JSON${detail}`, { cause: err });
  }
}
