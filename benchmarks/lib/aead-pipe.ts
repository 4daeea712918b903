/**
 * The ceiling for a two-process encrypted stream on this machine: the same
 * payloads sealed with node:crypto ChaCha20-Poly1305, sent over loopback TCP
 * behind a plain 4-byte length, and opened by the receiver. No handshake, no
 * encrypted length, no key rotation, no fragments, no queue: only the two AEAD
 * passes and TCP, which any design over node:crypto must pay. Each key is
 * random per round and shared with the receiver in the round's opening line;
 * this is a measuring stick, never a protocol.
 */
import { createCipheriv, createDecipheriv, randomBytes, type DecipherChaCha20Poly1305 as Decipher } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

const TAG = 16;
const NONCE = 12;

export interface PipeReport {
  readonly bytes: number;
  readonly ms: number;
  readonly cpuMs: number;
}

/**
 * Receiver side: one connection; each round starts with the 32-byte key, then
 * [u32 length][ciphertext][tag] records; a length of 0xffffffff ends the round
 * and is answered with the JSON report and a newline. The first record of a
 * round opens the clock and is not counted, as in the BOLT 8 receiver.
 */
export function servePipe(): Promise<number> {
  const server = createServer((socket) => {
    server.close();
    socket.setNoDelay(true);
    new PipeReceiver(socket);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const END = 0xffffffff;

class PipeReceiver {
  #key: Buffer | undefined;
  readonly #nonce = Buffer.alloc(NONCE);
  #counter = 0;
  // Small fields (key, length, tag) are gathered here; bodies are decrypted piece by piece, never copied.
  readonly #small = Buffer.alloc(32);
  #smallFill = 0;
  #decipher: Decipher | undefined;
  #bodyLeft = 0;
  #first = 0;
  #bytes = 0;
  #cpu = process.cpuUsage();

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#push(chunk));
  }

  #push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#decipher !== undefined && this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, chunk.length - offset);
        this.#decipher.update(chunk.subarray(offset, offset + n));
        this.#bodyLeft -= n;
        offset += n;
        continue;
      }
      const want = this.#key === undefined ? 32 : this.#decipher === undefined ? 4 : TAG;
      const n = Math.min(want - this.#smallFill, chunk.length - offset);
      chunk.copy(this.#small, this.#smallFill, offset, offset + n);
      this.#smallFill += n;
      offset += n;
      if (this.#smallFill < want) break;
      this.#smallFill = 0;
      if (this.#key === undefined) this.#start(Buffer.from(this.#small));
      else if (this.#decipher === undefined) this.#header(this.#small.readUInt32BE(0));
      else this.#finish(this.#small.subarray(0, TAG));
    }
  }

  #start(key: Buffer): void {
    this.#key = key;
    this.#counter = 0;
  }

  #header(length: number): void {
    if (length === END) {
      this.#report();
      return;
    }
    this.#nonce.writeUInt32LE(this.#counter++, 4);
    this.#decipher = createDecipheriv('chacha20-poly1305', this.#key as Buffer, this.#nonce, { authTagLength: TAG });
    this.#bodyLeft = length;
    if (this.#first === 0) {
      this.#first = performance.now();
      this.#cpu = process.cpuUsage();
    } else this.#bytes += length;
  }

  #finish(tag: Buffer): void {
    const decipher = this.#decipher as Decipher;
    this.#decipher = undefined;
    decipher.setAuthTag(tag);
    decipher.final(); // throws on a bad tag: the bench then fails loudly
  }

  #report(): void {
    const used = process.cpuUsage(this.#cpu);
    const report: PipeReport = { bytes: this.#bytes, ms: performance.now() - this.#first, cpuMs: (used.user + used.system) / 1000 };
    this.socket.write(`${JSON.stringify(report)}\n`);
    this.#key?.fill(0);
    this.#key = undefined;
    this.#first = 0;
    this.#bytes = 0;
  }
}

/** Sender side of the pipe, connected to servePipe()'s port. */
export class PipeSender {
  readonly #socket: Socket;
  #reports: string[] = [];
  #waiting: ((line: string) => void) | undefined;
  #buffered = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.#buffered += text;
      let newline: number;
      while ((newline = this.#buffered.indexOf('\n')) >= 0) {
        const line = this.#buffered.slice(0, newline);
        this.#buffered = this.#buffered.slice(newline + 1);
        if (this.#waiting) {
          const resolve = this.#waiting;
          this.#waiting = undefined;
          resolve(line);
        } else this.#reports.push(line);
      }
    });
  }

  static connect(port: number): Promise<PipeSender> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new PipeSender(socket)));
      socket.setNoDelay(true);
      socket.once('error', reject);
    });
  }

  /** Sends `size`-byte records for `ms`, with the same batching and bound as the BOLT 8 sender; returns the receiver's report. */
  async round(size: number, ms: number, highWaterMark: number): Promise<PipeReport> {
    const key = randomBytes(32);
    const nonce = Buffer.alloc(NONCE);
    const payload = randomBytes(size);
    const socket = this.#socket;
    socket.write(key);
    let counter = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      socket.cork();
      for (let i = 0; i < 64 && socket.writableLength < highWaterMark; i++) {
        nonce.writeUInt32LE(counter++, 4);
        const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
        const length = Buffer.allocUnsafe(4);
        length.writeUInt32BE(size, 0);
        socket.write(length);
        socket.write(cipher.update(payload));
        cipher.final();
        socket.write(cipher.getAuthTag());
      }
      socket.uncork();
      if (socket.writableLength >= highWaterMark) await new Promise((resolve) => socket.once('drain', resolve));
    }
    key.fill(0);
    const end4 = Buffer.alloc(4);
    end4.writeUInt32BE(END, 0);
    socket.write(end4);
    const line = this.#reports.shift() ?? (await new Promise<string>((resolve) => (this.#waiting = resolve)));
    return JSON.parse(line) as PipeReport;
  }

  close(): void {
    this.#socket.destroy();
  }
}
