import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireAddon } from './helpers.js';

// These tests set process.env.NOTIFY_SOCKET, so they run one at a time and restore it.
const saved = process.env.NOTIFY_SOCKET;
test.afterEach.always(() => {
  if (saved === undefined) delete process.env.NOTIFY_SOCKET;
  else process.env.NOTIFY_SOCKET = saved;
});

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    return (err as Error & { code?: string }).code;
  }
  return undefined;
};

test.serial('sdNotify is false without NOTIFY_SOCKET and validates its argument', (t) => {
  const addon = requireAddon();
  delete process.env.NOTIFY_SOCKET;
  t.false(addon.sdNotify('READY=1'));
  t.throws(() => addon.sdNotify(1 as unknown as string), { instanceOf: TypeError, message: /state must be a string/ });
  t.throws(() => addon.sdNotify(''), { instanceOf: RangeError });
});

test.serial('sdNotify reports unusable sockets by errno', (t) => {
  const addon = requireAddon();
  process.env.NOTIFY_SOCKET = 'relative/path';
  t.is(code(() => addon.sdNotify('READY=1')), 'EAFNOSUPPORT');
  process.env.NOTIFY_SOCKET = '/nonexistent-dir/notify';
  t.is(code(() => addon.sdNotify('READY=1')), 'ENOENT');
  process.env.NOTIFY_SOCKET = `@edge-agent-test-nobody-${process.pid}`;
  t.is(code(() => addon.sdNotify('READY=1')), 'ECONNREFUSED');
});

/** A Unix datagram listener in python3 (Node has none) that prints the first message it gets. */
function listen(address: string): Promise<{ message: Promise<string> }> {
  const script = [
    'import json, socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    'a = sys.argv[1]',
    "s.bind('\\0' + a[1:] if a.startswith('@') else a)",
    "print('ready', flush=True)",
    "print(json.dumps(s.recv(4096).decode()), flush=True)",
  ].join('\n');
  const child = spawn('python3', ['-c', script, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill();
      reject(new Error('python3 listener did not answer within 10 s'));
    }, 10_000);
    const message = new Promise<string>((res) => child.on('close', () => res(JSON.parse(out.split('\n')[1] || '""') as string)));
    child.on('error', reject);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve({ message: message.finally(() => clearTimeout(guard)) });
    });
  });
}

test.serial('sdNotify delivers to an abstract and to a path socket', async (t) => {
  const addon = requireAddon();
  if (spawnSync('python3', ['--version']).status !== 0) {
    t.log('python3 missing: no Unix datagram listener, so only the error paths above ran');
    t.pass();
    return;
  }
  const abstract = `@edge-agent-test-${process.pid}`;
  const a = await listen(abstract);
  process.env.NOTIFY_SOCKET = abstract;
  t.true(addon.sdNotify('READY=1\nSTATUS=abstract'));
  t.is(await a.message, 'READY=1\nSTATUS=abstract');

  const dir = mkdtempSync(join(tmpdir(), 'ea-notify-'));
  try {
    const path = join(dir, 'notify.sock');
    const p = await listen(path);
    process.env.NOTIFY_SOCKET = path;
    t.true(addon.sdNotify('WATCHDOG=1'));
    t.is(await p.message, 'WATCHDOG=1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
