/**
 * Agreeing on a DKG before it runs. runDkg needs every member to hold the same
 * session id, start time, Δ, threshold and roster; here the committee's leader
 * (member 1: the lowest peer id) proposes them and every other member checks
 * the proposal against its own config.
 *
 * The core has no I/O: makeProposal signs, judgeProposal checks. The wire has
 * two types: 'threshold/dkg-propose', a request whose answer says whether the
 * member will run that session, and 'threshold/dkg-cancel', with which the
 * leader gives a session up before it starts because not every member accepted
 * (a DKG that starts with a member known to be absent would finish without it,
 * leaving that member with no share). The proposal is signed with the leader's
 * identity key over a domain tag and the canonical encoding of its fields, so a
 * member can show whose proposal it ran.
 */
import * as s from '../schema/index.js';
import { peerIdOf, sign, verify } from '../identity/index.js';
import { defineRequest } from '../transport/index.js';
import { defineMessage, encodeCanonical, MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { ThresholdError } from './errors.js';
import { MAX_MEMBERS, MIN_THRESHOLD } from './frost.js';

/** Bounds a member holds a proposal to (Δ's bounds are the config's: committee.deltaMs). */
export const PROPOSAL_LIMITS = Object.freeze({
  sessionIdBytes: 16,
  minDeltaMs: 50,
  maxDeltaMs: 10_000,
  /** A start further ahead than this is refused: nobody should sit on a session for minutes. */
  maxAheadMs: 60_000,
  maxReasonChars: 200,
});

const PEER_ID_BYTES = 32;
const SIGNATURE_BYTES = 64;
const DOMAIN = new TextEncoder().encode('edge-agent/threshold/dkg-proposal/v1\0');

/** What the leader proposes. Member i of the DKG is members[i - 1]. */
export interface DkgProposalFields {
  readonly sessionId: Uint8Array;
  /** Agreed start, ms since the epoch on the agents' clocks. */
  readonly start: number;
  readonly deltaMs: number;
  readonly threshold: number;
  /** Peer ids, ascending. */
  readonly members: readonly Uint8Array[];
}

export interface DkgProposal extends DkgProposalFields {
  /** The leader's identity signature over DOMAIN || canonical(fields). */
  readonly signature: Uint8Array;
}

export type ProposalVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const compare = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/**
 * The committee's member order: peer ids ascending (member 1, the leader, first).
 * BAD_ARGUMENT for ids that are not 32 bytes, repeats, or a committee FROST cannot have.
 */
export function committeeOrder(members: readonly Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(members)) throw new ThresholdError('BAD_ARGUMENT', 'committeeOrder: members must be an array of peer ids');
  if (members.length < MIN_THRESHOLD || members.length > MAX_MEMBERS) {
    throw new ThresholdError('BAD_ARGUMENT', `committeeOrder: a committee has ${MIN_THRESHOLD} to ${MAX_MEMBERS} members, got ${members.length}`);
  }
  for (const m of members) {
    if (!(m instanceof Uint8Array) || m.length !== PEER_ID_BYTES) throw new ThresholdError('BAD_ARGUMENT', `committeeOrder: every member must be a ${PEER_ID_BYTES}-byte peer id`);
  }
  const sorted = members.map((m) => Uint8Array.from(m)).sort(compare);
  for (let i = 1; i < sorted.length; i++) {
    if (compare(sorted[i - 1]!, sorted[i]!) === 0) throw new ThresholdError('BAD_ARGUMENT', `committeeOrder: member ${hex(sorted[i]!).slice(0, 16)} is listed twice`);
  }
  return sorted;
}

function checkFields(f: DkgProposalFields, fn: string): void {
  if (typeof f !== 'object' || f === null) throw new ThresholdError('BAD_ARGUMENT', `${fn}: expected proposal fields`);
  if (!(f.sessionId instanceof Uint8Array) || f.sessionId.length !== PROPOSAL_LIMITS.sessionIdBytes) {
    throw new ThresholdError('BAD_ARGUMENT', `${fn}: sessionId must be ${PROPOSAL_LIMITS.sessionIdBytes} bytes`);
  }
  if (!Number.isSafeInteger(f.start) || f.start < 0) throw new ThresholdError('BAD_ARGUMENT', `${fn}: start must be a whole number of ms since the epoch`);
  if (!Number.isSafeInteger(f.deltaMs) || f.deltaMs < PROPOSAL_LIMITS.minDeltaMs || f.deltaMs > PROPOSAL_LIMITS.maxDeltaMs) {
    throw new ThresholdError('BAD_ARGUMENT', `${fn}: deltaMs must be an integer from ${PROPOSAL_LIMITS.minDeltaMs} to ${PROPOSAL_LIMITS.maxDeltaMs}`);
  }
  const ordered = committeeOrder(f.members as Uint8Array[]);
  if (!ordered.every((m, i) => compare(m, f.members[i]!) === 0)) throw new ThresholdError('BAD_ARGUMENT', `${fn}: members must be in ascending order`);
  if (!Number.isSafeInteger(f.threshold) || f.threshold < MIN_THRESHOLD || f.threshold > f.members.length) {
    throw new ThresholdError('BAD_ARGUMENT', `${fn}: threshold must be an integer from ${MIN_THRESHOLD} to ${f.members.length}`);
  }
}

/** The bytes the leader signs: a domain tag, then the canonical CBOR of the fields. */
export function proposalSigningBytes(f: DkgProposalFields): Uint8Array {
  checkFields(f, 'proposalSigningBytes');
  const body = encodeCanonical({ sessionId: f.sessionId, start: f.start, deltaMs: f.deltaMs, threshold: f.threshold, members: [...f.members] });
  const out = new Uint8Array(DOMAIN.length + body.length);
  out.set(DOMAIN, 0);
  out.set(body, DOMAIN.length);
  return out;
}

/** The leader's proposal, signed with its identity secret key (which must be member 1's). */
export function makeProposal(fields: DkgProposalFields, secretKey: Uint8Array): DkgProposal {
  checkFields(fields, 'makeProposal');
  if (!(secretKey instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', 'makeProposal: secretKey must be a Uint8Array');
  const signature = sign(secretKey, proposalSigningBytes(fields));
  return Object.freeze({
    sessionId: Uint8Array.from(fields.sessionId),
    start: fields.start,
    deltaMs: fields.deltaMs,
    threshold: fields.threshold,
    members: Object.freeze(fields.members.map((m) => Uint8Array.from(m))),
    signature,
  });
}

/** What a member holds a proposal against: its own config and clock, and the key of the peer it came from. */
export interface ProposalExpectations {
  /** Identity public key (33 bytes) of the peer that sent it, from the channel. */
  readonly fromPublicKey: Uint8Array;
  /** The committee as this member's config has it, in committee order. */
  readonly members: readonly Uint8Array[];
  readonly threshold: number;
  /** This member's clock, ms since the epoch. */
  readonly now: number;
  readonly maxAheadMs?: number;
}

/**
 * Whether a member should run this proposal: it must come from the leader
 * (member 1 of our own committee), carry the leader's valid signature, name
 * exactly our committee and threshold, a Δ within bounds, and a start that is
 * neither past by more than Δ nor further ahead than maxAheadMs. A refusal says
 * why in words for the logs; it is not an error.
 */
export function judgeProposal(p: DkgProposal, expect: ProposalExpectations): ProposalVerdict {
  if (typeof p !== 'object' || p === null) throw new ThresholdError('BAD_ARGUMENT', 'judgeProposal: expected a proposal');
  if (typeof expect !== 'object' || expect === null) throw new ThresholdError('BAD_ARGUMENT', 'judgeProposal: expected the member\'s expectations');
  const ours = committeeOrder(expect.members as Uint8Array[]);
  if (!(expect.fromPublicKey instanceof Uint8Array) || expect.fromPublicKey.length !== 33) {
    throw new ThresholdError('BAD_ARGUMENT', 'judgeProposal: fromPublicKey must be a 33-byte identity public key');
  }
  if (!Number.isFinite(expect.now)) throw new ThresholdError('BAD_ARGUMENT', 'judgeProposal: now must be a finite number');
  const maxAhead = expect.maxAheadMs ?? PROPOSAL_LIMITS.maxAheadMs;
  const refuse = (reason: string): ProposalVerdict => ({ ok: false, reason });

  if (compare(peerIdOf(expect.fromPublicKey), ours[0]!) !== 0) return refuse('not from the committee leader (member 1)');
  try {
    checkFields(p, 'proposal');
  } catch (err) {
    return refuse((err as Error).message);
  }
  if (p.members.length !== ours.length || !p.members.every((m, i) => compare(m, ours[i]!) === 0)) return refuse('its members differ from our committee');
  if (p.threshold !== expect.threshold) return refuse(`its threshold ${p.threshold} differs from ours (${expect.threshold})`);
  if (p.start < expect.now - p.deltaMs) return refuse(`its start is ${expect.now - p.start} ms in the past`);
  if (p.start > expect.now + maxAhead) return refuse(`its start is ${p.start - expect.now} ms ahead (at most ${maxAhead})`);
  if (!(p.signature instanceof Uint8Array) || p.signature.length !== SIGNATURE_BYTES || !verify(expect.fromPublicKey, proposalSigningBytes(p), p.signature)) {
    return refuse('its signature does not verify under the leader\'s key');
  }
  return { ok: true };
}

// ---------------------------------------------------------------- wire

const member = s.bytes({ len: PEER_ID_BYTES });

/** The leader's proposal; the answer says whether the member will run it (and why not). */
export const thresholdDkgPropose = defineRequest(
  'threshold/dkg-propose',
  s.object({
    sessionId: s.bytes({ len: PROPOSAL_LIMITS.sessionIdBytes }),
    start: s.int({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    deltaMs: s.int({ min: PROPOSAL_LIMITS.minDeltaMs, max: PROPOSAL_LIMITS.maxDeltaMs }),
    threshold: s.int({ min: MIN_THRESHOLD, max: MAX_MEMBERS }),
    members: s.array(member, { min: MIN_THRESHOLD, max: MAX_MEMBERS }),
    signature: s.bytes({ len: SIGNATURE_BYTES }),
  }),
  s.object({ accepted: s.bool(), reason: s.text({ max: PROPOSAL_LIMITS.maxReasonChars }) }),
);

/** The leader gives up a session before its start (some member refused or did not answer). */
export const thresholdDkgCancel = defineMessage('threshold/dkg-cancel', s.object({ sessionId: s.bytes({ len: PROPOSAL_LIMITS.sessionIdBytes }) }));

export type DkgProposalMessage = typeof thresholdDkgPropose.request | typeof thresholdDkgPropose.response | typeof thresholdDkgCancel;

/** `registry` plus the proposal's request, reply and cancel. */
export function withDkgProposalMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | DkgProposalMessage> {
  if (!(registry instanceof MessageRegistry)) throw new ThresholdError('BAD_ARGUMENT', 'withDkgProposalMessages needs a MessageRegistry');
  try {
    return registry.with(thresholdDkgPropose.request, thresholdDkgPropose.response, thresholdDkgCancel);
  } catch (err) {
    if (err instanceof WireError) throw new ThresholdError('BAD_ARGUMENT', `withDkgProposalMessages: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}

/** A reason cut to what the reply schema carries. */
export function proposalReason(text: string): string {
  return String(text).slice(0, PROPOSAL_LIMITS.maxReasonChars);
}
