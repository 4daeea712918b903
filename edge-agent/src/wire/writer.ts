/**
 * The output side of the canonical encoder: one growable byte buffer, reused by every call
 * so that encoding a message allocates only the copy it returns. Heads are always written
 * in their shortest form (RFC 8949 §4.2.1). Every write makes its own room.
 */

/** Big enough for typical messages; larger ones grow the buffer for that call only. */
const INITIAL_BYTES = 4096;
/** A buffer grown beyond this is dropped after the call, so one large message does not pin memory. */
const RETAINED_BYTES = 64 * 1024;
/** Up to this many UTF-16 units, a JS loop beats the native UTF-8 encoder on ASCII. */
const ASCII_LOOP_MAX = 48;
/** Byte strings up to this long are copied by a JS loop, which beats the native set() call there. */
const BYTE_LOOP_MAX = 16;

const utf8 = new TextEncoder();

let buf = new Uint8Array(INITIAL_BYTES);
let view = new DataView(buf.buffer);
let pos = 0;
let busy = false;

// String.prototype.isWellFormed exists in Node 20 but not in the ES2023 typings.
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

function grow(needed: number): void {
  const next = new Uint8Array(Math.max(buf.length * 2, pos + needed));
  next.set(buf.subarray(0, pos));
  buf.fill(0, 0, pos); // what was encoded may be secret (keystore plaintext)
  buf = next;
  view = new DataView(buf.buffer);
}

/** Makes room for `n` more bytes. */
function ensure(n: number): void {
  if (pos + n > buf.length) grow(n);
}

/** Bytes a head with argument `arg` takes. */
function headSize(arg: number): number {
  return arg < 24 ? 1 : arg < 0x100 ? 2 : arg < 0x10000 ? 3 : arg < 0x100000000 ? 5 : 9;
}

/** A head of major type `major` (already shifted: 0x00, 0x20, ... 0xe0) with argument `arg` <= 2^53 - 1; needs 9 bytes of room. */
function head(major: number, arg: number): void {
  if (arg < 24) {
    buf[pos++] = major | arg;
  } else if (arg < 0x100) {
    buf[pos++] = major | 24;
    buf[pos++] = arg;
  } else if (arg < 0x10000) {
    buf[pos++] = major | 25;
    buf[pos++] = arg >> 8;
    buf[pos++] = arg;
  } else if (arg < 0x100000000) {
    buf[pos++] = major | 26;
    view.setUint32(pos, arg);
    pos += 4;
  } else {
    buf[pos++] = major | 27;
    view.setUint32(pos, Math.floor(arg / 0x100000000));
    view.setUint32(pos + 4, arg >>> 0);
    pos += 8;
  }
}

/** One byte: a simple value (false, true, null) or the head of an empty container. */
export function writeByte(byte: number): void {
  ensure(1);
  buf[pos++] = byte;
}

/** The head of a string or container whose length is known up front. */
export function writeHead(major: number, arg: number): void {
  ensure(9);
  head(major, arg);
}

/** A safe integer in its shortest form. */
export function writeInt(n: number): void {
  ensure(9);
  if (n >= 0) head(0x00, n);
  else head(0x20, -1 - n);
}

export function writeFloat64(x: number): void {
  ensure(9);
  buf[pos++] = 0xfb;
  view.setFloat64(pos, x);
  pos += 8;
}

export function writeBytes(bytes: Uint8Array): void {
  const n = bytes.length;
  ensure(9 + n);
  head(0x40, n);
  if (n <= BYTE_LOOP_MAX) {
    for (let i = 0; i < n; i++) buf[pos + i] = bytes[i]!;
  } else {
    buf.set(bytes, pos);
  }
  pos += n;
}

/** Already encoded bytes (a map key's head and text), copied as they are. */
export function writeRaw(bytes: Uint8Array): void {
  const n = bytes.length;
  ensure(n);
  for (let i = 0; i < n; i++) buf[pos + i] = bytes[i]!;
  pos += n;
}

/** A text string; false (and nothing written) if `s` is not well-formed Unicode. */
export function writeText(s: string): boolean {
  const n = s.length;
  if (n > ASCII_LOOP_MAX) return writeUtf8(s);
  // ASCII: one byte per unit, so the length is known before the bytes are written.
  ensure(2 + n);
  const start = pos;
  head(0x60, n);
  let p = pos;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      pos = start;
      return writeUtf8(s);
    }
    buf[p++] = c;
  }
  pos = p;
  return true;
}

function writeUtf8(s: string): boolean {
  // encodeInto would write a lone surrogate as U+FFFD; the canonical subset refuses it instead.
  if (!isWellFormed(s)) return false;
  const max = s.length * 3;
  ensure(9 + max);
  // The byte length is known only after encoding: reserve the longest head it can need, then close the gap.
  const reserved = headSize(max);
  const start = pos + reserved;
  const written = utf8.encodeInto(s, buf.subarray(start, start + max)).written;
  const size = headSize(written);
  if (size < reserved) buf.copyWithin(pos + size, start, start + written);
  head(0x60, written);
  pos += written;
  return true;
}

/** The encoding of text string `s` (well-formed), as a copy, leaving the output as it was. */
export function encodeText(s: string): Uint8Array {
  const start = pos;
  writeText(s);
  const out = buf.slice(start, pos);
  pos = start;
  return out;
}

/** Reserves the head of a container that will hold at most `maxCount` items; returns where it starts. */
export function reserveHead(maxCount: number): number {
  ensure(9);
  const at = pos;
  pos += headSize(maxCount);
  return at;
}

/** Writes the head reserved at `at` once the real count is known, moving what follows if it got shorter. */
export function fillHead(major: number, at: number, maxCount: number, count: number): void {
  const reserved = headSize(maxCount);
  const size = headSize(count);
  if (size < reserved) {
    buf.copyWithin(at + size, at + reserved, pos);
    pos -= reserved - size;
  }
  const end = pos;
  pos = at;
  head(major, count);
  pos = end;
}

/**
 * Runs `write(value)` after `prefix` into the pooled buffer and returns a copy of the bytes,
 * so callers never alias the buffer. If `write` calls back into here (a getter that encodes),
 * the inner call gets a buffer of its own and the outer one is restored afterwards.
 */
export function collect<T>(prefix: Uint8Array | undefined, write: (value: T) => void, value: T): Uint8Array {
  const outer = busy ? { buf, view, pos } : undefined;
  if (outer !== undefined) {
    buf = new Uint8Array(INITIAL_BYTES);
    view = new DataView(buf.buffer);
  }
  busy = true;
  pos = 0;
  try {
    if (prefix !== undefined) writeRaw(prefix);
    write(value);
    return buf.slice(0, pos);
  } finally {
    // The bytes may be secret (the keystore encodes its plaintext here): only the returned copy keeps them.
    buf.fill(0, 0, pos);
    if (outer !== undefined) {
      ({ buf, view, pos } = outer);
    } else {
      busy = false;
      if (buf.length > RETAINED_BYTES) {
        buf = new Uint8Array(INITIAL_BYTES);
        view = new DataView(buf.buffer);
      }
    }
  }
}

/** What the pool holds between calls; internal, for the test that proves no secret stays in it. */
export function pooledBuffer(): Uint8Array {
  return buf;
}
