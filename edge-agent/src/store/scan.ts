import { LogError } from './errors.js';
import { FILE_HEADER_BYTES, FORMAT_VERSION, MAGIC, RECORD_HEADER_BYTES, decodeRecordHeader, payloadCrc } from './format.js';
import type { ByteSource } from './source.js';

export type RecordFault =
  /** Fewer bytes left than a record header. */
  | 'partial-header'
  /** A record header whose own checksum fails. */
  | 'bad-header'
  /** A valid header whose payload runs past the end of the file. */
  | 'past-end'
  /** A valid header declaring more than maxRecordBytes. */
  | 'too-large'
  /** A complete record whose payload checksum fails. */
  | 'bad-checksum';

export interface Fault {
  readonly kind: RecordFault;
  /** Where the faulty record starts. */
  readonly offset: number;
  /** Index it would have had. */
  readonly index: number;
  /** Where the faulty record ends, when its length could be trusted; else `offset`. */
  readonly recordEnd: number;
}

export interface WalkEnd {
  readonly records: number;
  /** Offset just past the last intact record. */
  readonly end: number;
  readonly fault: Fault | null;
}

const CHUNK = 64 * 1024;

/** Reads through a small window so that small records cost no syscall each. */
class Window {
  private start = 0;
  private bytes: Uint8Array = new Uint8Array(0);

  constructor(private readonly src: ByteSource) {}

  async view(position: number, length: number): Promise<Uint8Array> {
    const from = position - this.start;
    if (from >= 0 && from + length <= this.bytes.length) return this.bytes.subarray(from, from + length);
    // Fresh buffers, never reused: views handed out earlier stay valid.
    this.bytes = await this.src.read(position, Math.min(Math.max(length, CHUNK), this.src.size - position));
    this.start = position;
    return this.bytes.subarray(0, length);
  }
}

async function checkFileHeader(src: ByteSource): Promise<void> {
  if (src.size < FILE_HEADER_BYTES) {
    throw new LogError('BAD_MAGIC', `log ${src.name}: ${src.size} bytes is shorter than the ${FILE_HEADER_BYTES}-byte file header; not a log`, { offset: 0 });
  }
  const header = await src.read(0, FILE_HEADER_BYTES);
  if (!MAGIC.every((b, i) => header[i] === b)) {
    throw new LogError('BAD_MAGIC', `log ${src.name}: no log magic at byte 0; not a log`, { offset: 0 });
  }
  const version = header[MAGIC.length];
  if (version !== FORMAT_VERSION) {
    throw new LogError('VERSION', `log ${src.name}: format version ${version} at byte ${MAGIC.length}, this code reads version ${FORMAT_VERSION}`, { offset: MAGIC.length });
  }
}

/**
 * Yields each intact record's payload (a view: copy it to keep it) from the file
 * header up to the end of `src`, and returns where and why it stopped.
 */
export async function* walkRecords(src: ByteSource, maxRecordBytes: number): AsyncGenerator<Uint8Array, WalkEnd, undefined> {
  await checkFileHeader(src);
  const window = new Window(src);
  let pos = FILE_HEADER_BYTES;
  let index = 0;
  const stop = (kind: RecordFault, recordEnd = pos): WalkEnd => ({ records: index, end: pos, fault: { kind, offset: pos, index, recordEnd } });
  while (pos < src.size) {
    if (src.size - pos < RECORD_HEADER_BYTES) return stop('partial-header');
    const header = decodeRecordHeader(await window.view(pos, RECORD_HEADER_BYTES));
    if (header === null) return stop('bad-header');
    const recordEnd = pos + RECORD_HEADER_BYTES + header.length;
    if (recordEnd > src.size) return stop('past-end');
    if (header.length > maxRecordBytes) return stop('too-large', recordEnd);
    const payload = await window.view(pos + RECORD_HEADER_BYTES, header.length);
    if (payloadCrc(payload) !== header.payloadCrc) return stop('bad-checksum', recordEnd);
    yield payload;
    pos = recordEnd;
    index += 1;
  }
  return { records: index, end: pos, fault: null };
}

async function zeroFrom(src: ByteSource, from: number): Promise<boolean> {
  for (let pos = from; pos < src.size; pos += CHUNK) {
    const bytes = await src.read(pos, Math.min(CHUNK, src.size - pos));
    if (!bytes.every((b) => b === 0)) return false;
  }
  return true;
}

/**
 * Whether a fault is the torn end of an unfinished append rather than damage to
 * data that was once complete. A write cut short leaves a partial header, a
 * payload that runs past the end, or a last record whose checksum fails; a
 * filesystem that grew the file before the data landed leaves zeros. Anything
 * else followed by more data is corruption, and is not for the reader to cut.
 */
export async function isTorn(src: ByteSource, fault: Fault): Promise<boolean> {
  switch (fault.kind) {
    case 'partial-header':
    case 'past-end':
      return true;
    case 'bad-header':
      return zeroFrom(src, fault.offset);
    case 'bad-checksum':
      return fault.recordEnd === src.size || zeroFrom(src, fault.recordEnd);
    case 'too-large':
      return false;
  }
}

function describeFault(name: string, fault: Fault, size: number): string {
  const what: Record<RecordFault, string> = {
    'partial-header': 'a partial record header',
    'bad-header': 'a record header that fails its checksum',
    'past-end': 'a record that runs past the end of the file',
    'too-large': 'a record longer than maxRecordBytes',
    'bad-checksum': 'a record whose payload fails its checksum',
  };
  return `log ${name}: ${what[fault.kind]} at byte ${fault.offset} (record ${fault.index}), with ${size - fault.offset} bytes from there to the end`;
}

/** Walks `src` to its end, handing each intact record (a view) to `visit`. */
export async function walkAll(src: ByteSource, maxRecordBytes: number, visit?: (payload: Uint8Array, index: number) => void | Promise<void>): Promise<WalkEnd> {
  const records = walkRecords(src, maxRecordBytes);
  for (let index = 0; ; index++) {
    const step = await records.next();
    if (step.done) return step.value;
    if (visit !== undefined) await visit(step.value, index);
  }
}

/** The error for a fault that is not a torn tail. */
export function corruptError(src: ByteSource, fault: Fault, advice: string): LogError {
  const code = fault.kind === 'too-large' ? 'TOO_LARGE' : 'CORRUPT';
  return new LogError(code, `${describeFault(src.name, fault, src.size)}: corruption, not a torn write; ${advice}`, { offset: fault.offset, index: fault.index });
}
