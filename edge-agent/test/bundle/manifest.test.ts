import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { binaryKind, boardTable, BundleError, formatManifest, parseManifest } from '../../src/bundle/index.js';
import { loadProfiles } from '../../src/board/index.js';

const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const segment = fc.stringMatching(/^[A-Za-z0-9_@+-][A-Za-z0-9_.@+ -]{0,11}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')).filter((p) => p !== 'MANIFEST.sha256');

test('a manifest reads back as it was written, sorted in byte order like LC_ALL=C sort', (t) => {
  fc.assert(
    fc.property(fc.dictionary(path, hex, { maxKeys: 20 }), (d) => {
      const entries = new Map(Object.entries(d));
      const text = formatManifest(entries);
      t.deepEqual(new Map([...parseManifest(text)].sort()), new Map([...entries].sort()));
      const names = text.split('\n').filter(Boolean).map((l) => l.slice(66));
      t.deepEqual(names, [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }),
  );
});

test('anything else is a BAD_MANIFEST error, never another exception', (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.array(fc.oneof(hex, fc.constantFrom('  ', '\n', '/', '..', '\\', 'a')), { maxLength: 12 }).map((p) => p.join(''))), (text) => {
      try {
        parseManifest(text);
      } catch (err) {
        t.true(err instanceof BundleError && err.code === 'BAD_MANIFEST', String(err));
      }
    }),
  );
  const h = 'a'.repeat(64);
  for (const bad of [`${h} one-space\n`, `${h}  x`, `${h}  ../up\n`, `${h}  /abs\n`, `${h}  a//b\n`, `${h}  x\n${h}  x\n`, `${h}  MANIFEST.sha256\n`, `${'A'.repeat(64)}  x\n`, `${h}  a\\b\n`]) {
    const err = t.throws(() => parseManifest(bad), { instanceOf: BundleError }, JSON.stringify(bad));
    t.is(err?.code, 'BAD_MANIFEST');
  }
});

test('ELF headers tell x64 from arm64; anything else is neither', (t) => {
  const elf = (cls: number, data: number, machine: number): Uint8Array => {
    const b = Buffer.alloc(64);
    b.set([0x7f, 0x45, 0x4c, 0x46, cls, data]);
    b.writeUInt16LE(machine, 18);
    return b;
  };
  t.is(binaryKind(elf(2, 1, 0x3e)), 'x64');
  t.is(binaryKind(elf(2, 1, 0xb7)), 'arm64');
  t.is(binaryKind(elf(1, 1, 0x28)), 'other-elf', '32-bit Arm');
  t.is(binaryKind(elf(2, 2, 0xb7)), 'other-elf', 'big-endian');
  t.is(binaryKind(Buffer.from('#!/bin/sh\nexec node "$@"\n')), 'not-elf');
  t.is(binaryKind(new Uint8Array(3)), 'not-elf');
  const self = readFileSync(process.execPath).subarray(0, 64);
  t.is(binaryKind(self), process.arch === 'x64' || process.arch === 'arm64' ? process.arch : 'other-elf');
});

test('the board table carries every profile model and one fallback line per architecture', async (t) => {
  const table = boardTable(await loadProfiles());
  const lines = table.split('\n');
  t.true(lines.includes('rpi-5|1|arm64|Raspberry Pi 5'));
  t.true(lines.includes('rpi-cm4|1|arm64|Raspberry Pi Compute Module 4'));
  t.true(lines.includes('rpi-4b|0|arm64|Raspberry Pi 4 Model B'));
  t.deepEqual(lines.filter((l) => l.endsWith('|')).sort(), ['generic-arm64|0|arm64|', 'x86-64-dev|0|x64|']);
  t.false(table.includes("'"));
});
