import { open, type FileHandle } from 'node:fs/promises';
import { system } from 'systeminformation';
import { BoardError } from './errors.js';
import { loadProfiles } from './load.js';
import type { BoardProfile } from './profile.js';

export type DetectedBy = 'override' | 'device-tree' | 'architecture';

export interface Detection {
  readonly profile: BoardProfile;
  readonly detectedBy: DetectedBy;
  /** What the hardware calls itself (device tree, else DMI); absent with an override. */
  readonly model?: string;
}

export interface DetectOptions {
  /** The config's `board`: a profile id, or "auto" (the same as leaving it out). */
  readonly override?: string;
  /** Defaults to /proc/device-tree/model (absent on most x86 machines). */
  readonly modelFile?: string;
  /** Defaults to process.arch. */
  readonly arch?: string;
  /** Defaults to loadProfiles() from the repo's board-config/. */
  readonly profiles?: readonly BoardProfile[];
}

const MODEL_FILE = '/proc/device-tree/model';
/** Real model strings are under 64 bytes; reading more would only follow a wrong path. */
const MAX_MODEL_BYTES = 256;

/**
 * Picks this machine's board profile: the config's explicit choice, else the
 * profile whose model string the device tree reports, else the fallback profile
 * for the CPU architecture.
 */
export async function detectBoard(opts: DetectOptions = {}): Promise<Detection> {
  if (typeof opts !== 'object' || opts === null) throw new BoardError('BAD_ARGUMENT', 'detectBoard: options must be an object.');
  for (const key of ['override', 'modelFile', 'arch'] as const) {
    const v = opts[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) {
      throw new BoardError('BAD_ARGUMENT', `detectBoard: ${key} must be a non-empty string when given.`);
    }
  }
  if (opts.profiles !== undefined && !Array.isArray(opts.profiles)) {
    throw new BoardError('BAD_ARGUMENT', 'detectBoard: profiles must be an array when given.');
  }
  const profiles = opts.profiles ?? (await loadProfiles());
  const known = profiles.map((p) => p.id).join(', ');

  if (opts.override !== undefined && opts.override !== 'auto') {
    const profile = profiles.find((p) => p.id === opts.override);
    if (!profile) {
      throw new BoardError(
        'UNKNOWN_BOARD',
        `board: expected "auto" or a known profile id (${known}), got ${JSON.stringify(opts.override)}`,
      );
    }
    return Object.freeze({ profile, detectedBy: 'override' });
  }

  const treeModel = await readModel(opts.modelFile ?? MODEL_FILE);
  if (treeModel !== undefined) {
    const profile = matchModel(profiles, treeModel);
    if (profile) return Object.freeze({ profile, detectedBy: 'device-tree', model: treeModel });
  }

  const arch = opts.arch ?? process.arch;
  const profile = profiles.find((p) => p.match.length === 0 && p.arch === arch);
  if (!profile) {
    const seen = treeModel === undefined ? '' : `model ${JSON.stringify(treeModel)} and `;
    throw new BoardError(
      'NO_MATCH',
      `board: no profile matches ${seen}architecture ${JSON.stringify(arch)}; expected "board" in the config set to one of ${known}`,
    );
  }
  const model = treeModel ?? (await dmiModel());
  return Object.freeze(model === undefined ? { profile, detectedBy: 'architecture' } : { profile, detectedBy: 'architecture', model });
}

/**
 * A profile's model string matches when the model is that string or starts with
 * it and a space ("Raspberry Pi 5" matches "Raspberry Pi 5 Model B Rev 1.0", not
 * "Raspberry Pi 500 Rev 1.0"). The longest match wins, so a specific profile
 * beats a general one.
 */
function matchModel(profiles: readonly BoardProfile[], model: string): BoardProfile | undefined {
  let best: BoardProfile | undefined;
  let bestLength = 0;
  for (const profile of profiles) {
    for (const m of profile.match) {
      if ((model === m || model.startsWith(`${m} `)) && m.length > bestLength) {
        best = profile;
        bestLength = m.length;
      }
    }
  }
  return best;
}

/** The device-tree model without its trailing NUL, or undefined where there is no device tree. */
async function readModel(file: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new BoardError('UNREADABLE', `${file}: the device-tree model cannot be read (${code ?? String(err)})`, { cause: err });
  }
  try {
    const buf = Buffer.alloc(MAX_MODEL_BYTES);
    const { bytesRead } = await handle.read(buf, 0, MAX_MODEL_BYTES, 0);
    const model = buf.toString('utf8', 0, bytesRead).replace(/\0+$/, '').trim();
    return model === '' ? undefined : model;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BoardError('UNREADABLE', `${file}: the device-tree model cannot be read (${code ?? String(err)})`, { cause: err });
  } finally {
    await handle.close();
  }
}

/**
 * The DMI vendor and product, for the log line only; never fails detection.
 * si.system() is the one systeminformation call made, and only on this path: it
 * runs dmidecode and reads /sys/devices/virtual/dmi (tens of milliseconds, once),
 * where osInfo() would spawn several more tools.
 */
async function dmiModel(): Promise<string | undefined> {
  try {
    const s = await system();
    const product = s.model === 'Computer' ? '' : s.model; // systeminformation's placeholder
    const name = `${s.manufacturer} ${product}`.trim();
    return name === '' ? undefined : name;
  } catch {
    return undefined;
  }
}
