/**
 * A member's committee key at rest: its share and the group's public package,
 * as one secret in the identity keystore (AES-256-GCM under scrypt of the
 * device secret and the passphrase). Loading checks the share against the
 * group's verifying share, so a damaged or mismatched entry is refused, not used.
 */
import type { Keystore } from '../identity/index.js';
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { ThresholdError } from './errors.js';
import { checkMemberShare, decodeGroupPublic, decodeMemberShare, encodeGroupPublic, encodeMemberShare, type GroupPublic, type MemberShare } from './frost.js';

export interface CommitteeKey {
  readonly group: GroupPublic;
  readonly share: MemberShare;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,53}$/;

function entry(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new ThresholdError('BAD_ARGUMENT', `committee key name must be 1-54 characters of A-Z a-z 0-9 . _ -, got ${JSON.stringify(String(name)).slice(0, 60)}`);
  return `committee.${name}`;
}

export async function saveCommitteeKey(keystore: Keystore, name: string, key: CommitteeKey): Promise<void> {
  const id = entry(name);
  checkMemberShare(key.share, key.group);
  const bytes = encodeCanonical({ group: encodeGroupPublic(key.group), share: encodeMemberShare(key.share) });
  try {
    await keystore.set(id, bytes);
  } finally {
    bytes.fill(0);
  }
}

/** The key saved under `name`, or undefined; ThresholdError MALFORMED or BAD_SHARE for an entry that is not one. */
export function loadCommitteeKey(keystore: Keystore, name: string): CommitteeKey | undefined {
  const bytes = keystore.get(entry(name));
  if (bytes === undefined) return undefined;
  try {
    let value: unknown;
    try {
      value = decodeCanonical(bytes, { maxBytes: 16 * 1024, maxDepth: 4, maxItems: 1024 });
    } catch (err) {
      throw new ThresholdError('MALFORMED', `committee key ${name}: not a committee key (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ThresholdError('MALFORMED', `committee key ${name}: not a committee key`);
    const rec = value as Record<string, unknown>;
    const group = decodeGroupPublic(rec['group']);
    const share = decodeMemberShare(rec['share']);
    checkMemberShare(share, group);
    return { group, share };
  } finally {
    bytes.fill(0);
  }
}
