/**
 * The bundle's two shell scripts. Their sources are real files beside this module's
 * source (edge-agent/src/bundle/*.sh, read from the checkout, where shellcheck can see
 * them); install.sh gets the bundle's own facts in place of its @BUNDLE_DATA@ line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BoardProfile } from '../board/index.js';
import type { BundleArch } from './arch.js';
import { BundleError } from './errors.js';

const DATA_LINE = '# @BUNDLE_DATA@';
/** Safe inside single quotes and between the table's "|" separators. */
const PLAIN = /^[^'|\n\r\\]*$/;

export function readTemplate(repoRoot: string, name: 'install.sh' | 'edge-agent.sh'): string {
  const file = join(repoRoot, 'edge-agent', 'src', 'bundle', name);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new BundleError('MISSING_SOURCE', `${file}: cannot be read; the bundle command runs from a checkout of the repository`, { cause: err });
  }
}

/**
 * "id|ptp|arch|model" lines, one per model string and one with an empty model for an
 * architecture's fallback profile: what install.sh needs to pick the profile the agent
 * will pick, without Node (the bundle may be for another architecture than the installer's).
 */
export function boardTable(profiles: readonly BoardProfile[]): string {
  if (!Array.isArray(profiles)) throw new BundleError('BAD_ARGUMENT', 'boardTable: profiles must be an array');
  const lines: string[] = [];
  for (const p of profiles) {
    const models = p.match.length === 0 ? [''] : p.match;
    for (const model of models) {
      for (const field of [p.id, p.arch, model]) {
        if (!PLAIN.test(field)) {
          throw new BundleError('UNSAFE_PATH', `board profile ${p.id}: ${JSON.stringify(field)} holds a quote, "|", a backslash or a line break, which install.sh cannot carry`);
        }
      }
      lines.push(`${p.id}|${p.ethernet.ptpHardwareClock ? 1 : 0}|${p.arch}|${model}`);
    }
  }
  return lines.join('\n');
}

export function fillInstallScript(template: string, data: { version: string; arch: BundleArch; boards: string }): string {
  const count = template.split('\n').filter((l) => l === DATA_LINE).length;
  if (count !== 1) throw new BundleError('MISSING_SOURCE', `install.sh: expected one "${DATA_LINE}" line, found ${count}`);
  for (const [k, v] of Object.entries({ version: data.version, arch: data.arch })) {
    if (!PLAIN.test(v) || v.includes('\n')) throw new BundleError('BAD_ARGUMENT', `install.sh: ${k} ${JSON.stringify(v)} cannot be quoted`);
  }
  if (!/^[^'\\]*$/.test(data.boards)) throw new BundleError('BAD_ARGUMENT', 'install.sh: the board table cannot be quoted');
  const block = [
    '# Filled in by `edge-agent bundle`.',
    `BUNDLE_VERSION='${data.version}'`,
    `BUNDLE_ARCH='${data.arch}'`,
    `BOARD_TABLE='${data.boards}'`,
  ].join('\n');
  return template.replace(DATA_LINE, () => block);
}
