import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateJsonError } from '../config/index.js';
import { BoardError } from './errors.js';
import { parseProfile, type BoardProfile } from './profile.js';

/**
 * The repo's board-config/ folder. Three levels up holds from edge-agent/src/board/
 * (tsx, tests) and from edge-agent/dist/board/ (the build) alike.
 */
export const DEFAULT_PROFILE_DIR = new URL('../../../board-config/', import.meta.url);

/** Profiles are a screenful of JSON; a bigger file is not one of ours. */
const MAX_PROFILE_BYTES = 64 * 1024;

/**
 * Reads and validates every profile in `dir` (every *.json but schema.json), and
 * refuses the set if two profiles share an id or a model string, or if two claim
 * to be the fallback for the same architecture. Sorted by id.
 */
export async function loadProfiles(dir: string | URL = DEFAULT_PROFILE_DIR): Promise<readonly BoardProfile[]> {
  if (!(dir instanceof URL) && (typeof dir !== 'string' || dir === '')) {
    throw new BoardError('BAD_ARGUMENT', 'loadProfiles: dir must be a non-empty path or a file: URL.');
  }
  const dirPath = dir instanceof URL ? fileURLToPath(dir) : dir;
  let names: string[];
  try {
    names = await readdir(dirPath);
  } catch (err) {
    throw unreadable(dirPath, 'the profile folder', err);
  }
  const files = names
    .filter((n) => n.endsWith('.json') && n !== 'schema.json')
    .sort()
    .map((n) => join(dirPath, n));
  if (files.length === 0) {
    throw new BoardError('NO_PROFILES', `${dirPath}: expected board profiles (*.json besides schema.json), got none`);
  }

  const profiles: { profile: BoardProfile; file: string }[] = [];
  for (const file of files) profiles.push({ profile: parseProfile(await readJson(file), file), file });
  checkSet(profiles);
  return Object.freeze(profiles.map((p) => p.profile).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}

async function readJson(file: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw unreadable(file, 'the profile', err);
  }
  if (bytes.length > MAX_PROFILE_BYTES) {
    throw new BoardError('INVALID_PROFILE', `${file}: expected at most ${MAX_PROFILE_BYTES} bytes, got ${bytes.length}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new BoardError('INVALID_PROFILE', `${file}: expected UTF-8 text, got bytes that are not valid UTF-8`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = locateJsonError(text);
    const detail = at ? ` at line ${at.line}, column ${at.column}: expected ${at.expected}, got ${at.got}` : '';
    throw new BoardError('INVALID_PROFILE', `${file}: not valid JSON${detail}`, { cause: err });
  }
}

/** Rules that span profiles: detection must never have two answers. */
function checkSet(profiles: readonly { profile: BoardProfile; file: string }[]): void {
  const ids = new Map<string, string>();
  const models = new Map<string, string>();
  const fallbacks = new Map<string, string>();
  for (const { profile, file } of profiles) {
    const sameId = ids.get(profile.id);
    if (sameId !== undefined) {
      throw invalid(file, 'id', 'an id no other profile uses', `${JSON.stringify(profile.id)}, as does ${sameId}`);
    }
    ids.set(profile.id, file);
    for (const [i, model] of profile.match.entries()) {
      const other = models.get(model);
      if (other !== undefined) {
        throw invalid(file, `match[${i}]`, 'a model string no other entry claims', `${JSON.stringify(model)}, as does ${other}`);
      }
      models.set(model, file);
    }
    if (profile.match.length === 0) {
      const other = fallbacks.get(profile.arch);
      if (other !== undefined) {
        throw invalid(file, 'match', `model strings, since ${other} is already the ${profile.arch} fallback`, 'an empty list');
      }
      fallbacks.set(profile.arch, file);
    }
  }
}

function invalid(file: string, field: string, expected: string, got: string): BoardError {
  return new BoardError('INVALID_PROFILE', `${file}: ${field}: expected ${expected}, got ${got}`);
}

function unreadable(path: string, what: string, err: unknown): BoardError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? String(err);
  return new BoardError('UNREADABLE', `${path}: ${what} cannot be read (${code})`, { cause: err });
}
