import test from 'ava';
import { spawnSync } from 'node:child_process';
import { DEFAULT_ADDON_PATH } from '../../src/native/index.js';
import { requireAddon } from './helpers.js';

/** Runs a CommonJS script in a fresh node with `addonPath` defined; a hang is killed after 30 s and fails. */
function run(script: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const prelude = `const addonPath = ${JSON.stringify(DEFAULT_ADDON_PATH)};\n`;
  const r = spawnSync(process.execPath, ['-e', prelude + script], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const pingPong = `
const n = require(addonPath);
function pair(count, done) {
  let left = count;
  const b = n.udpOpen({ address: '127.0.0.1', port: 0, timestamping: 'software' }, (d, addr, port) => {
    if (--left === 0) done();
    else n.udpSend(b.handle, d, addr, port);
  }, () => {});
  const a = n.udpOpen({ address: '127.0.0.1', port: 0, timestamping: 'software' }, (d, addr, port) => n.udpSend(a.handle, d, addr, port), () => {});
  n.udpSend(a.handle, Buffer.from('ping'), '127.0.0.1', b.port);
  return [a, b];
}
`;

test('process.exit with sockets open and traffic flowing exits cleanly', (t) => {
  requireAddon();
  const r = run(`${pingPong}
pair(100000, () => {});
pair(100000, () => {});
let ticks = 0;
const timer = setInterval(() => { if (++ticks === 5) { console.log('exiting'); process.exit(0); } }, 20);
`);
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'exiting');
});

test('open sockets keep node alive; once closed, node exits by itself', (t) => {
  requireAddon();
  const r = run(`${pingPong}
const [a, b] = pair(50, () => { n.udpClose(a.handle); n.udpClose(b.handle); n.udpClose(b.handle); console.log('closed'); });
`);
  t.is(r.signal, null, `still running after 30 s: ${r.stderr}`);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'closed');
});

test('a worker that ends with sockets open does not take the process down', (t) => {
  requireAddon();
  const worker = `${pingPong}
const { parentPort } = require('node:worker_threads');
pair(1000000, () => {});
parentPort.postMessage('running');
`;
  const r = run(`
const { Worker } = require('node:worker_threads');
const w = new Worker(${JSON.stringify(`const addonPath = ${JSON.stringify(DEFAULT_ADDON_PATH)};\n${worker}`)}, { eval: true });
w.once('message', async () => {
  await new Promise((r) => setTimeout(r, 50));
  await w.terminate();
  ${pingPong}
  const [a, b] = pair(10, () => { n.udpClose(a.handle); n.udpClose(b.handle); console.log('main still fine'); });
});
`);
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'main still fine');
});

test('a callback that throws is an uncaught exception, like any event handler', (t) => {
  requireAddon();
  const r = run(`
const n = require(addonPath);
const a = n.udpOpen({ address: '127.0.0.1', port: 0, timestamping: 'none' }, () => { throw new Error('boom from onMessage'); }, () => {});
process.on('uncaughtException', (e) => { console.log('caught ' + e.message); n.udpClose(a.handle); });
n.udpSend(a.handle, Buffer.from('x'), '127.0.0.1', a.port);
`);
  t.is(r.signal, null, r.stderr);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'caught boom from onMessage');
});
