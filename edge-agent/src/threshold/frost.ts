/**
 * Typed, validating wrappers around @noble/curves' ed25519_FROST (RFC 9591,
 * FROST(Ed25519, SHA-512)). We do not re-derive FROST: every signing step is
 * noble's. This file owns what noble leaves to the caller: our identifiers
 * (1-based member index ↔ noble's 32-byte little-endian hex), types that carry
 * bytes only (CBOR-friendly), strict decoding of anything from outside, and one
 * error type with precise codes.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { createFROST, type FrostPublic, type FrostSecret, type NonceCommitments } from '@noble/curves/abstract/frost.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { ThresholdError } from './errors.js';

/** Decoded points kept (group keys, verifying shares, the commitments of the signatures in progress). */
export const POINT_CACHE_SIZE = 1024;

/**
 * noble's ed25519 Point, decoding each encoding once. noble's FROST decodes
 * (and subgroup-checks: a full scalar multiplication, ~2/3 of a signShare or
 * aggregate here) every point it is given on every call, so the same
 * commitment was decoded by the coordinator's own signShare, again by its
 * aggregate and again per verifyShare. This subclass keeps the decoded point
 * per 32-byte encoding (a bounded LRU; a decoding is a pure function of the
 * bytes and points are frozen, so a cached one is the one noble would have
 * made) and remembers which points passed the subgroup check (only a pass is
 * remembered). No FROST arithmetic changes: every check still happens, once.
 */
function memoPoint(): { Point: typeof ed25519.Point; admitOwn: (bytes: Uint8Array) => void } {
  const Base = ed25519.Point;
  const torsionFree = new WeakSet<object>();
  const cache = new Map<string, EdPoint>();
  class MemoPoint extends Base {
    static override fromBytes(bytes: Uint8Array, zip215 = false): EdPoint {
      if (zip215 || !(bytes instanceof Uint8Array) || bytes.length !== POINT_BYTES) return Base.fromBytes(bytes, zip215);
      const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
      let p = cache.get(key);
      if (p !== undefined) {
        cache.delete(key); // LRU: most recent last
      } else {
        const d = Base.fromBytes(bytes);
        p = new MemoPoint(d.X, d.Y, d.Z, d.T);
        if (cache.size >= POINT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(key, p);
      return p;
    }
    override isTorsionFree(): boolean {
      if (torsionFree.has(this)) return true;
      const ok = super.isTorsionFree();
      if (ok) torsionFree.add(this);
      return ok;
    }
  }
  /** Caches a point this process computed itself as G·scalar (in the subgroup by construction): no check needed. */
  const admitOwn = (bytes: Uint8Array): void => void torsionFree.add(MemoPoint.fromBytes(bytes));
  return { Point: MemoPoint, admitOwn };
}

/**
 * noble's ed25519_FROST suite, built without its validatePoint hook: createFROST already checks every decoded
 * point (on the curve, not the identity, torsion-free: RFC 9591 §3.1), and the hook repeats the two costly
 * checks on every point of every call. Same suite, same context string (the RFC 9591 E.1 vectors pass through
 * it), half the time per signShare and aggregate.
 */
const { Point, admitOwn } = memoPoint();
const F = createFROST({ name: 'FROST-ED25519-SHA512-v1', Point, hash: sha512, H2: '' });
const Fn = F.utils.Fn;
type EdPoint = InstanceType<typeof ed25519.Point>;

export const SCALAR_BYTES = 32;
export const POINT_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Largest committee we accept: identifiers stay small numbers, and every loop over members stays short. */
export const MAX_MEMBERS = 255;
/** noble (like frost-rs) refuses 1-of-n: a one-member "threshold" is just a key. */
export const MIN_THRESHOLD = 2;

/** The group's public package: what every member and coordinator knows. */
export interface GroupPublic {
  /** Signers needed (t). */
  readonly threshold: number;
  /** Members holding shares (n); members are numbered 1..size. */
  readonly size: number;
  /** The Ed25519 public key the group signs for (= commitments[0]). */
  readonly groupKey: Uint8Array;
  /** VSS commitments to the sharing polynomial's coefficients (t points). */
  readonly commitments: readonly Uint8Array[];
  /** verifyingShares[i - 1] is member i's public share, G·s_i. */
  readonly verifyingShares: readonly Uint8Array[];
  /** noble's package, built once from the above. */
  readonly frost: FrostPublic;
}

/** One member's secret share of the group key. */
export interface MemberShare {
  readonly member: number;
  /** The scalar s_i, 32 bytes little-endian. */
  readonly signingShare: Uint8Array;
}

/** A signer's round-one output: public, sent to the coordinator. */
export interface SigningCommitment {
  readonly member: number;
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

/** A signer's round-one secret: used once, then wiped. */
export interface SigningNonces {
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

/** A signer's round-two output. */
export interface SignatureShare {
  readonly member: number;
  readonly share: Uint8Array;
}

/** A source of random bytes, as noble takes it (tests pass a fixed one). */
export type RandomBytes = (length: number) => Uint8Array;

// ---------------------------------------------------------------- identifiers

function checkMember(member: unknown, what: string, size = MAX_MEMBERS): number {
  if (typeof member !== 'number' || !Number.isInteger(member) || member < 1 || member > size) {
    throw new ThresholdError('BAD_ARGUMENT', `${what}: member must be an integer in 1..${size}, got ${String(member)}`);
  }
  return member;
}

const idCache: string[] = [];

/** noble's identifier (32-byte little-endian scalar, hex) for member index `member` (1-based). */
export function identifierOf(member: number): string {
  checkMember(member, 'identifierOf');
  return (idCache[member] ??= F.Identifier.fromNumber(member));
}

/** The member index behind one of our identifiers; MALFORMED for anything else (derived ids included). */
export function memberOf(identifier: string): number {
  if (typeof identifier !== 'string' || !/^[0-9a-f]{64}$/.test(identifier)) {
    throw new ThresholdError('MALFORMED', 'memberOf: identifier must be 64 lowercase hex digits');
  }
  const n = parseInt(identifier.slice(2, 4) + identifier.slice(0, 2), 16);
  if (n < 1 || n > MAX_MEMBERS || identifierOf(n) !== identifier) {
    throw new ThresholdError('MALFORMED', `memberOf: ${identifier} is not a member index in 1..${MAX_MEMBERS}`);
  }
  return n;
}

/**
 * An identifier derived from a peer id (RFC 9591 leaves identifiers to us; noble
 * hashes the string to a scalar). For committees keyed by peer rather than by index.
 */
export function identifierFromPeerId(peerId: string): string {
  if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > 256) {
    throw new ThresholdError('BAD_ARGUMENT', 'identifierFromPeerId: peer id must be a string of 1..256 characters');
  }
  return F.Identifier.derive(peerId);
}

// ---------------------------------------------------------------- bytes

function checkBytes(value: unknown, length: number, what: string, code: 'BAD_ARGUMENT' | 'MALFORMED'): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new ThresholdError(code, `${what}: expected ${length} bytes, got ${got}`);
  }
  return value;
}

/** A canonical scalar (< L); `nonZero` for shares. */
function checkScalar(value: unknown, what: string, code: 'BAD_ARGUMENT' | 'MALFORMED', nonZero: boolean): bigint {
  const bytes = checkBytes(value, SCALAR_BYTES, what, code);
  let n: bigint;
  try {
    n = Fn.fromBytes(bytes);
  } catch {
    throw new ThresholdError(code, `${what}: not a canonical scalar (must be below the group order)`);
  }
  if (nonZero && n === 0n) throw new ThresholdError(code, `${what}: zero scalar`);
  return n;
}

/**
 * A point that decodes (strict RFC 8032 encoding) and is not the identity. `full`
 * adds the prime-order subgroup check (RFC 9591 §3.1), which costs a scalar
 * multiplication; noble repeats that check itself wherever it uses a point, so
 * we do it only for what we keep (the group package), and decode-only for
 * round messages that go straight into noble.
 */
function decodePoint(value: unknown, what: string, code: 'BAD_ARGUMENT' | 'MALFORMED', full: boolean): EdPoint {
  const bytes = checkBytes(value, POINT_BYTES, what, code);
  let p: EdPoint;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    throw new ThresholdError(code, `${what}: not an Ed25519 point encoding`);
  }
  if (p.is0()) throw new ThresholdError(code, `${what}: identity point`);
  if (full && !p.isTorsionFree()) throw new ThresholdError(code, `${what}: point outside the prime-order subgroup`);
  return p;
}

function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes); // a private copy: Buffer views from a decoder may share a pool
}

function plainObject(value: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ThresholdError('MALFORMED', `${what}: expected a map`);
  }
  const rec = value as Record<string, unknown>;
  const own = Object.keys(rec);
  for (const k of own) if (!keys.includes(k)) throw new ThresholdError('MALFORMED', `${what}: unexpected field ${JSON.stringify(k.slice(0, 40))}`);
  for (const k of keys) if (!(k in rec)) throw new ThresholdError('MALFORMED', `${what}: missing field ${k}`);
  return rec;
}

function wireMember(value: unknown, what: string, size = MAX_MEMBERS): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > size) {
    throw new ThresholdError('MALFORMED', `${what}: member must be an integer in 1..${size}`);
  }
  return value;
}

function byteList(value: unknown, min: number, max: number, what: string): Uint8Array[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) {
    throw new ThresholdError('MALFORMED', `${what}: expected a list of ${min}..${max} byte strings`);
  }
  return value as Uint8Array[];
}

// ---------------------------------------------------------------- group package

export interface GroupPublicParts {
  readonly threshold: number;
  readonly size: number;
  readonly commitments: readonly Uint8Array[];
  readonly verifyingShares: readonly Uint8Array[];
}

/**
 * Builds (and fully validates) the group package: sizes, every point decodes
 * into the prime-order subgroup, and every verifying share is the VSS
 * commitment evaluated at its member (G·s_i = Σ C_j·i^j), so a package that
 * would blame honest signers cannot be built. `code` is the error for bad input.
 */
export function makeGroupPublic(parts: GroupPublicParts, code: 'BAD_ARGUMENT' | 'MALFORMED' = 'BAD_ARGUMENT'): GroupPublic {
  if (typeof parts !== 'object' || parts === null) throw new ThresholdError(code, 'group package: expected an object');
  const { threshold, size } = parts;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_THRESHOLD || size > MAX_MEMBERS) {
    throw new ThresholdError(code, `group package: size must be an integer in ${MIN_THRESHOLD}..${MAX_MEMBERS}, got ${String(size)}`);
  }
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < MIN_THRESHOLD || threshold > size) {
    throw new ThresholdError(code, `group package: threshold must be an integer in ${MIN_THRESHOLD}..${size}, got ${String(threshold)}`);
  }
  if (!Array.isArray(parts.commitments) || parts.commitments.length !== threshold) {
    throw new ThresholdError(code, `group package: expected ${threshold} VSS commitments`);
  }
  if (!Array.isArray(parts.verifyingShares) || parts.verifyingShares.length !== size) {
    throw new ThresholdError(code, `group package: expected ${size} verifying shares`);
  }
  const C = parts.commitments.map((c, j) => decodePoint(c, `group package: commitments[${j}]`, code, true));
  const commitments = parts.commitments.map(copy);
  const verifyingShares = parts.verifyingShares.map((v, i) => {
    const member = i + 1;
    const Y = decodePoint(v, `group package: verifying share of member ${member}`, code, true);
    // Σ C_j·member^j, powers of a small number: cheap variable-time multiplications of public data.
    let acc = C[0]!;
    let pow = 1n;
    for (let j = 1; j < C.length; j++) {
      pow = Fn.mul(pow, BigInt(member));
      acc = acc.add(C[j]!.multiplyUnsafe(pow));
    }
    if (!acc.equals(Y)) {
      throw new ThresholdError(code, `group package: verifying share of member ${member} does not match the VSS commitments`, { culprits: [String(member)] });
    }
    return copy(v);
  });
  const shares: Record<string, Uint8Array> = {};
  verifyingShares.forEach((v, i) => (shares[identifierOf(i + 1)] = v));
  const frost = Object.freeze({
    signers: Object.freeze({ min: threshold, max: size }),
    commitments: Object.freeze([...commitments]),
    verifyingShares: Object.freeze(shares),
  }) as unknown as FrostPublic; // noble's TRet<> types want ArrayBuffer-backed arrays; ours are
  return Object.freeze({
    threshold,
    size,
    groupKey: commitments[0]!,
    commitments: Object.freeze(commitments),
    verifyingShares: Object.freeze(verifyingShares),
    frost,
  });
}

/** Our group package from noble's (e.g. a DKG's output); its identifiers must be our member indices 1..max. */
export function groupPublicFromFrost(pkg: FrostPublic): GroupPublic {
  if (typeof pkg !== 'object' || pkg === null || typeof pkg.signers !== 'object' || pkg.signers === null) {
    throw new ThresholdError('BAD_ARGUMENT', 'groupPublicFromFrost: expected a FrostPublic package');
  }
  const size = pkg.signers.max;
  checkMember(size, 'groupPublicFromFrost: signers.max');
  const ids = Object.keys(pkg.verifyingShares ?? {});
  if (ids.length !== size) throw new ThresholdError('BAD_ARGUMENT', `groupPublicFromFrost: expected ${size} verifying shares, got ${ids.length}`);
  const verifyingShares: Uint8Array[] = [];
  for (let m = 1; m <= size; m++) {
    const v = pkg.verifyingShares[identifierOf(m)];
    if (v === undefined) throw new ThresholdError('BAD_ARGUMENT', `groupPublicFromFrost: no verifying share for member ${m} (identifiers must be member indices)`);
    verifyingShares.push(v);
  }
  return makeGroupPublic({ threshold: pkg.signers.min, size, commitments: pkg.commitments, verifyingShares });
}

export interface GroupPublicWire {
  threshold: number;
  size: number;
  commitments: Uint8Array[];
  verifyingShares: Uint8Array[];
}

export function encodeGroupPublic(group: GroupPublic): GroupPublicWire {
  return { threshold: group.threshold, size: group.size, commitments: group.commitments.map(copy), verifyingShares: group.verifyingShares.map(copy) };
}

/** Decodes and fully validates a group package from outside (MALFORMED on anything wrong). */
export function decodeGroupPublic(wire: unknown): GroupPublic {
  const rec = plainObject(wire, ['threshold', 'size', 'commitments', 'verifyingShares'], 'group package');
  byteList(rec.commitments, MIN_THRESHOLD, MAX_MEMBERS, 'group package: commitments');
  byteList(rec.verifyingShares, MIN_THRESHOLD, MAX_MEMBERS, 'group package: verifyingShares');
  return makeGroupPublic(rec as unknown as GroupPublicParts, 'MALFORMED');
}

// ---------------------------------------------------------------- member shares

/** A member's share (a canonical non-zero scalar); copies the bytes. */
export function makeMemberShare(member: number, signingShare: Uint8Array): MemberShare {
  checkMember(member, 'makeMemberShare');
  checkScalar(signingShare, `share of member ${member}`, 'BAD_ARGUMENT', true);
  return Object.freeze({ member, signingShare: copy(signingShare) });
}

/** BAD_SHARE unless G·s_i is the group's verifying share for this member. */
export function checkMemberShare(share: MemberShare, group: GroupPublic): void {
  checkMember(share?.member, 'checkMemberShare', group.size);
  const s = checkScalar(share.signingShare, `share of member ${share.member}`, 'BAD_ARGUMENT', true);
  const expected = group.verifyingShares[share.member - 1]!;
  const got = Point.BASE.multiply(s).toBytes();
  if (!equalBytes(got, expected)) {
    throw new ThresholdError('BAD_SHARE', `share of member ${share.member} does not match its verifying share`, { culprits: [String(share.member)] });
  }
}

export interface MemberShareWire {
  member: number;
  signingShare: Uint8Array;
}

export function encodeMemberShare(share: MemberShare): MemberShareWire {
  return { member: share.member, signingShare: copy(share.signingShare) };
}

export function decodeMemberShare(wire: unknown): MemberShare {
  const rec = plainObject(wire, ['member', 'signingShare'], 'member share');
  const member = wireMember(rec.member, 'member share');
  checkScalar(rec.signingShare, 'member share: signingShare', 'MALFORMED', true);
  return Object.freeze({ member, signingShare: copy(rec.signingShare as Uint8Array) });
}

// ---------------------------------------------------------------- round messages

export interface SigningCommitmentWire {
  member: number;
  hiding: Uint8Array;
  binding: Uint8Array;
}

export function encodeCommitment(c: SigningCommitment): SigningCommitmentWire {
  return { member: c.member, hiding: copy(c.hiding), binding: copy(c.binding) };
}

/** Decodes a commitment: lengths, member range, points decode (subgroup check left to noble, which makes it anyway). */
export function decodeCommitment(wire: unknown): SigningCommitment {
  const rec = plainObject(wire, ['member', 'hiding', 'binding'], 'commitment');
  const member = wireMember(rec.member, 'commitment');
  decodePoint(rec.hiding, `commitment of member ${member}: hiding`, 'MALFORMED', false);
  decodePoint(rec.binding, `commitment of member ${member}: binding`, 'MALFORMED', false);
  return Object.freeze({ member, hiding: copy(rec.hiding as Uint8Array), binding: copy(rec.binding as Uint8Array) });
}

/** Decodes a list of commitments (at most MAX_MEMBERS, members distinct). */
export function decodeCommitmentList(wire: unknown): SigningCommitment[] {
  if (!Array.isArray(wire) || wire.length < 1 || wire.length > MAX_MEMBERS) {
    throw new ThresholdError('MALFORMED', `commitment list: expected 1..${MAX_MEMBERS} commitments`);
  }
  const list = wire.map(decodeCommitment);
  checkDistinct(list, 'commitment list', 'MALFORMED');
  return list;
}

export interface SignatureShareWire {
  member: number;
  share: Uint8Array;
}

export function encodeSignatureShare(s: SignatureShare): SignatureShareWire {
  return { member: s.member, share: copy(s.share) };
}

export function decodeSignatureShare(wire: unknown): SignatureShare {
  const rec = plainObject(wire, ['member', 'share'], 'signature share');
  const member = wireMember(rec.member, 'signature share');
  checkScalar(rec.share, `signature share of member ${member}`, 'MALFORMED', false);
  return Object.freeze({ member, share: copy(rec.share as Uint8Array) });
}

// ---------------------------------------------------------------- signing steps

function checkGroup(group: GroupPublic, what: string): void {
  if (typeof group !== 'object' || group === null || typeof group.frost !== 'object' || !Number.isInteger(group.threshold)) {
    throw new ThresholdError('BAD_ARGUMENT', `${what}: group must be a GroupPublic (from makeGroupPublic/decodeGroupPublic)`);
  }
}

function checkMessage(message: unknown, what: string): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', `${what}: message must be a Uint8Array`);
  return message;
}

function checkDistinct(list: readonly { member: number }[], what: string, code: 'BAD_ARGUMENT' | 'MALFORMED'): void {
  const seen = new Set<number>();
  for (const c of list) {
    if (seen.has(c.member)) throw new ThresholdError(code, `${what}: member ${c.member} appears twice`, { culprits: [String(c.member)] });
    seen.add(c.member);
  }
}

/** Validates a commitment list for signing with `group`: t..n entries, distinct members of the group, byte lengths. */
function toFrostCommitments(group: GroupPublic, commitments: readonly SigningCommitment[], what: string): NonceCommitments[] {
  if (!Array.isArray(commitments) || commitments.length < group.threshold || commitments.length > group.size) {
    throw new ThresholdError('BAD_ARGUMENT', `${what}: expected ${group.threshold}..${group.size} commitments`);
  }
  const out: NonceCommitments[] = [];
  for (const c of commitments) {
    checkMember(c?.member, `${what}: commitment`, group.size);
    checkBytes(c.hiding, POINT_BYTES, `${what}: hiding commitment of member ${c.member}`, 'BAD_ARGUMENT');
    checkBytes(c.binding, POINT_BYTES, `${what}: binding commitment of member ${c.member}`, 'BAD_ARGUMENT');
    out.push({ identifier: identifierOf(c.member), hiding: c.hiding, binding: c.binding } as NonceCommitments);
  }
  checkDistinct(commitments, what, 'BAD_ARGUMENT');
  return out;
}

function toFrostSecret(share: MemberShare): FrostSecret {
  return { identifier: identifierOf(share.member), signingShare: share.signingShare } as FrostSecret;
}

/** noble's message for a point it would not decode (off curve, identity, small order). */
function isPointError(err: unknown): boolean {
  const m = err instanceof Error ? err.message : '';
  return /point|infinity|torsion|subgroup|identity|invalid|bad/i.test(m);
}

/**
 * RFC 9591 §5.1 commit(): a fresh nonce pair and its public commitment. `rng`
 * only for test vectors; nonces are random, never derived, so a restart can
 * never recreate one.
 */
export function commit(share: MemberShare, rng?: RandomBytes): { nonces: SigningNonces; commitment: SigningCommitment } {
  checkMember(share?.member, 'commit');
  checkScalar(share.signingShare, `commit: share of member ${share.member}`, 'BAD_ARGUMENT', true);
  if (rng !== undefined && typeof rng !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'commit: rng must be a function');
  const out = rng === undefined ? F.commit(toFrostSecret(share)) : F.commit(toFrostSecret(share), rng as never);
  // noble computed both as G·nonce: our own sign request will not pay a subgroup check for them.
  admitOwn(out.commitments.hiding);
  admitOwn(out.commitments.binding);
  return {
    nonces: { hiding: out.nonces.hiding, binding: out.nonces.binding },
    commitment: Object.freeze({ member: share.member, hiding: out.commitments.hiding, binding: out.commitments.binding }),
  };
}

/**
 * RFC 9591 §5.2 sign(): this member's signature share. noble checks that the
 * list carries this member's commitment for exactly these nonces, and zeroes
 * the nonces once used; they are zeroed here on failure too, so a nonce pair
 * is never offered twice.
 */
export function signShare(
  share: MemberShare,
  group: GroupPublic,
  nonces: SigningNonces,
  commitments: readonly SigningCommitment[],
  message: Uint8Array,
): SignatureShare {
  checkGroup(group, 'signShare');
  checkMember(share?.member, 'signShare', group.size);
  checkMessage(message, 'signShare');
  try {
    checkBytes(nonces?.hiding, SCALAR_BYTES, 'signShare: hiding nonce', 'BAD_ARGUMENT');
    checkBytes(nonces.binding, SCALAR_BYTES, 'signShare: binding nonce', 'BAD_ARGUMENT');
    if (nonces.hiding.every((b) => b === 0) || nonces.binding.every((b) => b === 0)) {
      throw new ThresholdError('NONCE_REUSE', `signShare: member ${share.member}'s nonces were already used`);
    }
    const list = toFrostCommitments(group, commitments, 'signShare');
    const own = commitments.find((c) => c.member === share.member);
    if (own === undefined) throw new ThresholdError('BAD_ARGUMENT', `signShare: the commitment list lacks member ${share.member}'s commitment`);
    let z: Uint8Array;
    try {
      z = F.signShare(toFrostSecret(share), group.frost, { hiding: nonces.hiding, binding: nonces.binding }, list, message);
    } catch (err) {
      const m = err instanceof Error ? err.message : String(err);
      if (/incorrect signer commitment/.test(m)) throw new ThresholdError('BAD_ARGUMENT', `signShare: member ${share.member}'s commitment in the list is not the one for these nonces`);
      if (/already used/.test(m)) throw new ThresholdError('NONCE_REUSE', `signShare: member ${share.member}'s nonces were already used`);
      if (isPointError(err)) throw new ThresholdError('MALFORMED', `signShare: a commitment point is invalid (${m})`, undefined, { cause: err });
      throw new ThresholdError('BAD_ARGUMENT', `signShare: ${m}`, undefined, { cause: err });
    }
    return Object.freeze({ member: share.member, share: z });
  } finally {
    wipeNonces(nonces);
  }
}

/** Zeroes a nonce pair in place (noble does it after a successful signShare; we do it on every path). */
export function wipeNonces(nonces: SigningNonces | undefined): void {
  if (nonces?.hiding instanceof Uint8Array) nonces.hiding.fill(0);
  if (nonces?.binding instanceof Uint8Array) nonces.binding.fill(0);
}

/** RFC 9591 §5.4: does `share` verify for its member against this commitment list? */
export function verifyShare(group: GroupPublic, commitments: readonly SigningCommitment[], message: Uint8Array, share: SignatureShare): boolean {
  checkGroup(group, 'verifyShare');
  checkMessage(message, 'verifyShare');
  checkMember(share?.member, 'verifyShare', group.size);
  checkBytes(share.share, SCALAR_BYTES, `verifyShare: share of member ${share.member}`, 'BAD_ARGUMENT');
  const list = toFrostCommitments(group, commitments, 'verifyShare');
  if (!commitments.some((c) => c.member === share.member)) {
    throw new ThresholdError('BAD_ARGUMENT', `verifyShare: member ${share.member} has no commitment in the list`);
  }
  try {
    return F.verifyShare(group.frost, list, message, identifierOf(share.member), share.share);
  } catch {
    return false; // a non-canonical scalar or a bad point on the signer's side: the share does not verify
  }
}

export type AggregateOutcome = { readonly ok: true; readonly signature: Uint8Array } | { readonly ok: false; readonly cheaters: readonly number[] };

/**
 * RFC 9591 §5.3 aggregate(), reporting instead of throwing: noble sums the
 * shares, checks the result, and only when it fails verifies each share
 * (§5.4) to name the cheaters. `cheaters` is empty when nobody could be blamed.
 */
export function tryAggregate(
  group: GroupPublic,
  commitments: readonly SigningCommitment[],
  message: Uint8Array,
  shares: readonly SignatureShare[],
): AggregateOutcome {
  checkGroup(group, 'aggregate');
  checkMessage(message, 'aggregate');
  const list = toFrostCommitments(group, commitments, 'aggregate');
  if (!Array.isArray(shares) || shares.length !== commitments.length) {
    throw new ThresholdError('BAD_ARGUMENT', `aggregate: expected one share per commitment (${commitments.length})`);
  }
  const byId: Record<string, Uint8Array> = {};
  for (const s of shares) {
    checkMember(s?.member, 'aggregate: share', group.size);
    checkBytes(s.share, SCALAR_BYTES, `aggregate: share of member ${s.member}`, 'BAD_ARGUMENT');
    if (!commitments.some((c) => c.member === s.member)) throw new ThresholdError('BAD_ARGUMENT', `aggregate: member ${s.member} sent a share but has no commitment`);
    const id = identifierOf(s.member);
    if (id in byId) throw new ThresholdError('BAD_ARGUMENT', `aggregate: two shares for member ${s.member}`);
    // A non-canonical scalar is that member's fault, not a reason to throw: blame it.
    try {
      Fn.fromBytes(s.share);
    } catch {
      return { ok: false, cheaters: [s.member] };
    }
    byId[id] = s.share;
  }
  try {
    return { ok: true, signature: F.aggregate(group.frost, list, message, byId) };
  } catch (err) {
    const cheaters = (err as { cheaters?: unknown }).cheaters;
    if (Array.isArray(cheaters)) return { ok: false, cheaters: cheaters.map((id) => memberOf(String(id))).sort((a, b) => a - b) };
    if (isPointError(err)) {
      // A commitment that noble would not take (small order, identity): its sender is to blame.
      const bad = commitments.filter((c) => !isValidCommitment(c)).map((c) => c.member);
      return { ok: false, cheaters: bad };
    }
    throw new ThresholdError('BAD_ARGUMENT', `aggregate: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
  }
}

/** RFC 9591 §5.3 aggregate(): the signature, or BAD_SIGNATURE naming the members whose shares fail §5.4. */
export function aggregate(
  group: GroupPublic,
  commitments: readonly SigningCommitment[],
  message: Uint8Array,
  shares: readonly SignatureShare[],
): Uint8Array {
  const out = tryAggregate(group, commitments, message, shares);
  if (out.ok) return out.signature;
  const names = out.cheaters.map(String);
  throw new ThresholdError('BAD_SIGNATURE', `aggregate: the signature does not verify${names.length ? `; bad shares from members ${names.join(', ')}` : ''}`, { culprits: names });
}

/** True when both commitment points are in the prime-order subgroup (what noble demands). */
export function isValidCommitment(c: SigningCommitment): boolean {
  try {
    decodePoint(c.hiding, 'hiding', 'MALFORMED', true);
    decodePoint(c.binding, 'binding', 'MALFORMED', true);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- trusted dealer

export interface DealerOptions {
  /** The group secret (32-byte scalar); random if absent. */
  readonly secret?: Uint8Array;
  /** Randomness for the polynomial (tests only). */
  readonly rng?: RandomBytes;
}

/**
 * RFC 9591 Appendix C trusted dealer, for tests and benchmarks: one party sees
 * the whole key, so a real committee uses the DKG instead.
 */
export function dealerKeys(threshold: number, size: number, opts: DealerOptions = {}): { group: GroupPublic; shares: MemberShare[] } {
  if (!Number.isInteger(size) || size < MIN_THRESHOLD || size > MAX_MEMBERS) throw new ThresholdError('BAD_ARGUMENT', `dealerKeys: size must be in ${MIN_THRESHOLD}..${MAX_MEMBERS}`);
  if (!Number.isInteger(threshold) || threshold < MIN_THRESHOLD || threshold > size) throw new ThresholdError('BAD_ARGUMENT', `dealerKeys: threshold must be in ${MIN_THRESHOLD}..${size}`);
  if (opts.secret !== undefined) checkScalar(opts.secret, 'dealerKeys: secret', 'BAD_ARGUMENT', true);
  if (opts.rng !== undefined && typeof opts.rng !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'dealerKeys: rng must be a function');
  const ids = Array.from({ length: size }, (_, i) => identifierOf(i + 1));
  const deal = F.trustedDealer({ min: threshold, max: size }, ids, opts.secret, (opts.rng ?? undefined) as never);
  const group = groupPublicFromFrost(deal.public);
  const shares = ids.map((id, i) => makeMemberShare(i + 1, deal.secretShares[id]!.signingShare));
  for (const s of Object.values(deal.secretShares)) s.signingShare.fill(0);
  return { group, shares };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
