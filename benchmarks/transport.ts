/**
 * Transport figures, each beside its reference in the same run:
 * - handshakesPerSec: full TCP dial + BOLT 8 handshake + channel set-up on
 *   loopback, both ends in this process (so it is the cost of both sides);
 *   coreHandshakesPerSec: the two handshake cores alone, in memory.
 * - mibPerSec64k / mibPerSec1k: bulk throughput between two processes over
 *   loopback (this one sends, a child receives), counted by the receiver as
 *   messages it received and decrypted, in alternating rounds against raw
 *   node:crypto ChaCha20-Poly1305 of the same payloads in one process
 *   (createCipheriv/update/final/getAuthTag per message): ratioToRawAead*.
 *   receiverCpuRatioToRawAead* compares bytes per second of CPU time instead
 *   (receiver vs raw), which a loaded machine distorts far less.
 * - pipeMibPerSec* / pipeRatioToRawAead*: the ceiling of any two-process
 *   stream over node:crypto here (lib/aead-pipe.ts: the same payloads, AEAD
 *   and TCP only), in the same alternating rounds; ratioToPipe*: ours over it.
 * Run as `node --import tsx benchmarks/transport.ts receiver` it is the child.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, toHex } from '../edge-agent/src/identity/index.js';
import { accept, dial, initiator, responder, type Channel } from '../edge-agent/src/transport/index.js';
import type { BenchResult } from './run.js';
import { compareOpsPerSec, concurrentRate, median, round } from './lib/measure.js';
import { PipeSender, servePipe } from './lib/aead-pipe.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The channel's default send bound; the pipe uses the same. */
const HIGH_WATER_MARK = MiB;
const unlimited = { rateLimit: { messagesPerSec: Infinity, bytesPerSec: Infinity }, highWaterMark: HIGH_WATER_MARK };
/** A one-byte message ends a round; data messages are never that small. */
const END_OF_ROUND = 1;


/** Child: accepts one channel, times each round from its first message to the end marker, reports back. */
async function receiver(): Promise<void> {
  const keys = generateKeyPair();
  const server = createServer((socket) => {
    server.close();
    accept(socket, { secretKey: keys.secretKey, ...unlimited }).then(serve, (err: unknown) => {
      process.stderr.write(`receiver: handshake failed: ${String(err)}\n`);
      process.exit(1);
    });
  });
  const pipePort = await servePipe();
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ port, pipePort, publicKey: toHex(keys.publicKey) })}\n`);
  });
}

async function serve(channel: Channel): Promise<void> {
  let first = 0;
  let bytes = 0;
  let cpu = process.cpuUsage();
  while (await channel.readable()) {
    let message: Uint8Array | undefined;
    while ((message = channel.read()) !== undefined) {
      if (message.length !== END_OF_ROUND) {
        // The first message opens the clock; only what follows it counts.
        if (first === 0) {
          first = performance.now();
          cpu = process.cpuUsage();
        } else bytes += message.length;
        continue;
      }
      const ms = performance.now() - first;
      const used = process.cpuUsage(cpu);
      await channel.send(Buffer.from(JSON.stringify({ bytes, ms, cpuMs: (used.user + used.system) / 1000 })));
      first = 0;
      bytes = 0;
    }
  }
  process.exit(0);
}

function startReceiver(): Promise<{ port: number; pipePort: number; publicKey: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'receiver'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`transport bench: the receiver exited early (${String(code)})`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      const { port, pipePort, publicKey } = JSON.parse(line) as { port: number; pipePort: number; publicKey: string };
      resolve({ port, pipePort, publicKey, stop: () => child.kill() });
    });
  });
}

interface Round {
  /** MiB/s the receiver received and decrypted. */
  readonly wall: number;
  /** MiB per second of the receiver's own CPU time: what the machine's other load cannot take away. */
  readonly cpu: number;
}

/** One round: send `size`-byte messages for `ms`, then ask the receiver what it got. */
async function sendRound(channel: Channel, size: number, ms: number): Promise<Round> {
  const payload = randomBytes(size);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // trySend in a loop: no promise per message, one writev per filled buffer.
    for (let i = 0; i < 64; i++) {
      if (!channel.trySend(payload)) {
        await channel.drained();
        break;
      }
    }
  }
  await channel.send(new Uint8Array(END_OF_ROUND));
  const report = await channel.receive();
  if (report === undefined) throw new Error('transport bench: the receiver closed the channel');
  const { bytes, ms: elapsed, cpuMs } = JSON.parse(Buffer.from(report).toString()) as { bytes: number; ms: number; cpuMs: number };
  return { wall: bytes / MiB / (elapsed / 1000), cpu: bytes / MiB / (cpuMs / 1000) };
}

/** Raw AEAD of the same payload, one message at a time, for `ms`: MiB/s of wall and of CPU time. */
function rawAead(size: number, ms: number): Round {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  const payload = randomBytes(size);
  let n = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 16; i++) {
      nonce.writeUInt32LE(n++, 4);
      const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      cipher.update(payload);
      cipher.final();
      cipher.getAuthTag();
    }
    elapsed = performance.now() - start;
  }
  const used = process.cpuUsage(cpu);
  const mib = (n * size) / MiB;
  return { wall: mib / (elapsed / 1000), cpu: mib / ((used.user + used.system) / 1e6) };
}

/** The pipe's round, in the same units as ours. */
async function pipeRound(pipe: PipeSender, size: number, ms: number): Promise<Round> {
  const { bytes, ms: elapsed, cpuMs } = await pipe.round(size, ms, HIGH_WATER_MARK);
  return { wall: bytes / MiB / (elapsed / 1000), cpu: bytes / MiB / (cpuMs / 1000) };
}

interface Throughput {
  readonly ours: number;
  readonly raw: number;
  readonly pipe: number;
  readonly ratio: number;
  readonly cpuRatio: number;
  readonly pipeRatio: number;
  readonly ratioToPipe: number;
}

async function throughput(channel: Channel, pipe: PipeSender, size: number, rounds: number): Promise<Throughput> {
  await sendRound(channel, size, 300); // warm-up: JIT, TCP windows
  await pipeRound(pipe, size, 300);
  const ours: number[] = [];
  const raw: number[] = [];
  const piped: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const pipeRatios: number[] = [];
  const toPipe: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = rawAead(size, 400);
    const b = await sendRound(channel, size, 1500);
    const c = await pipeRound(pipe, size, 1500);
    raw.push(a.wall);
    ours.push(b.wall);
    piped.push(c.wall);
    ratios.push(b.wall / a.wall);
    cpuRatios.push(b.cpu / a.cpu);
    pipeRatios.push(c.wall / a.wall);
    toPipe.push(b.wall / c.wall);
  }
  return {
    ours: median(ours),
    raw: median(raw),
    pipe: median(piped),
    ratio: median(ratios),
    cpuRatio: median(cpuRatios),
    pipeRatio: median(pipeRatios),
    ratioToPipe: median(toPipe),
  };
}

/** TCP dial + handshake + channel, `concurrency` at a time, for `ms`: handshakes per second. */
async function tcpHandshakes(ms: number, concurrency: number): Promise<number> {
  const server = generateKeyPair();
  const client = generateKeyPair();
  const listener = createServer((socket) => {
    accept(socket, { secretKey: server.secretKey }).then(
      (channel) => channel.close(),
      () => {},
    );
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = `${toHex(server.publicKey)}@127.0.0.1:${(listener.address() as AddressInfo).port}`;
  const rate = await concurrentRate(concurrency, ms, async () => {
    const channel = await dial(address, { secretKey: client.secretKey });
    channel.close();
  });
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return rate;
}

const coreKeys = { a: generateKeyPair(), b: generateKeyPair() };

/** Both handshake cores in memory; static keys fixed, ephemerals fresh as always. */
function coreHandshake(): void {
  const { a, b } = coreKeys;
  const i = initiator({ localStatic: a.secretKey, remoteStatic: b.publicKey });
  const r = responder({ localStatic: b.secretKey });
  r.actThree(i.actTwo(r.actOne(i.actOne())));
}

export default async function (): Promise<BenchResult> {
  const handshakesPerSec = await tcpHandshakes(3000, 4);
  const core = compareOpsPerSec({ core: coreHandshake }, { rounds: 3, roundMs: 300 });

  const peer = await startReceiver();
  const client = generateKeyPair();
  const channel = await dial(`${peer.publicKey}@127.0.0.1:${peer.port}`, { secretKey: client.secretKey, ...unlimited });
  const pipe = await PipeSender.connect(peer.pipePort);
  try {
    const big = await throughput(channel, pipe, 64 * KiB, 5);
    const small = await throughput(channel, pipe, KiB, 5);
    return {
      handshakesPerSec: round(handshakesPerSec, 0),
      handshakesMeasure: 'TCP dial + handshake + channel on loopback, both ends in one process, 4 at a time',
      coreHandshakesPerSec: round(core.core, 0),
      mibPerSec64k: round(big.ours, 1),
      rawAeadMibPerSec64k: round(big.raw, 1),
      ratioToRawAead64k: round(big.ratio, 3),
      receiverCpuRatioToRawAead64k: round(big.cpuRatio, 3),
      pipeMibPerSec64k: round(big.pipe, 1),
      pipeRatioToRawAead64k: round(big.pipeRatio, 3),
      ratioToPipe64k: round(big.ratioToPipe, 3),
      mibPerSec1k: round(small.ours, 1),
      rawAeadMibPerSec1k: round(small.raw, 1),
      ratioToRawAead1k: round(small.ratio, 3),
      receiverCpuRatioToRawAead1k: round(small.cpuRatio, 3),
      pipeMibPerSec1k: round(small.pipe, 1),
      pipeRatioToRawAead1k: round(small.pipeRatio, 3),
      ratioToPipe1k: round(small.ratioToPipe, 3),
    };
  } finally {
    channel.close();
    pipe.close();
    peer.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'receiver') {
  receiver().catch((err: unknown) => {
    process.stderr.write(`receiver failed: ${String(err)}\n`);
    process.exit(1);
  });
}
