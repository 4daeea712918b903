/**
 * board-config/schema.json is for people and editors; board/profile.ts is what
 * runs. These tests keep the two from drifting apart.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { BoardError, DEFAULT_PROFILE_DIR, parseProfile } from '../../src/board/index.js';
import { sampleProfile } from './helpers.js';

interface JsonSchemaNode {
  type?: string;
  required?: string[];
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  enum?: string[];
  items?: JsonSchemaNode;
  $ref?: string;
  oneOf?: JsonSchemaNode[];
  $schema?: string;
  $defs?: Record<string, JsonSchemaNode>;
}

const schema = JSON.parse(readFileSync(new URL('schema.json', DEFAULT_PROFILE_DIR), 'utf8')) as JsonSchemaNode;

/** The message parseProfile gives for a profile with `field` (a dotted path) set to `value`, or null if accepted. */
function verdict(field: string, value: unknown): string | null {
  const profile = structuredClone(sampleProfile()) as Record<string, unknown>;
  const parts = field.split('.');
  let target = profile;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete target[last];
  else target[last] = value;
  try {
    parseProfile(profile, 'p.json');
    return null;
  } catch (err) {
    if (!(err instanceof BoardError)) throw err;
    return err.message;
  }
}

/** Object nodes with their dotted path: the top level, ethernet and thermal. */
function objectNodes(): [string, JsonSchemaNode][] {
  const top = schema.properties ?? {};
  return [
    ['', schema],
    ...Object.entries(top)
      .filter(([, node]) => node.type === 'object')
      .map(([key, node]): [string, JsonSchemaNode] => [key, node]),
  ];
}

test('it is a JSON Schema 2020-12 document that closes every object', (t) => {
  t.is(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  for (const [path, node] of objectNodes()) t.is(node.additionalProperties, false, path || 'top level');
});

test('same properties, and the same ones required, at every level', (t) => {
  for (const [path, node] of objectNodes()) {
    const prefix = path === '' ? '' : `${path}.`;
    const listed = Object.keys(node.properties ?? {});
    // The runtime lists the properties it knows when it meets one it does not.
    const message = verdict(`${prefix}unlisted`, 1) ?? '';
    const known = /\(known: ([^)]*)\)/.exec(message)?.[1]?.split(', ');
    t.deepEqual(known?.slice().sort(), listed.slice().sort(), `properties of ${path || 'top level'}`);
    for (const key of listed) {
      const missing = verdict(`${prefix}${key}`, undefined);
      t.is(missing !== null, (node.required ?? []).includes(key), `${prefix}${key} required?`);
      if (missing !== null) t.regex(missing, new RegExp(`^p\\.json: ${prefix.replace('.', '\\.')}${key.replace('$', '\\$')}: `));
    }
  }
});

test('same integer and length bounds', (t) => {
  for (const [path, node] of objectNodes()) {
    const prefix = path === '' ? '' : `${path}.`;
    for (const [key, prop] of Object.entries(node.properties ?? {})) {
      const field = `${prefix}${key}`;
      if (prop.type === 'integer') {
        const range = `expected an integer from ${prop.minimum} to ${prop.maximum}`;
        t.is(verdict(field, prop.minimum! - 1), `p.json: ${field}: ${range}, got ${prop.minimum! - 1}`);
        t.is(verdict(field, prop.maximum! + 1), `p.json: ${field}: ${range}, got ${prop.maximum! + 1}`);
        t.regex(verdict(field, 1.5) ?? '', new RegExp(`${range}, got 1.5$`));
      }
      if (prop.type === 'string' && prop.maxLength !== undefined) {
        t.not(verdict(field, 'x'.repeat(prop.maxLength + 1)), null, field);
        if (prop.minLength !== undefined && prop.minLength > 0) t.not(verdict(field, ''), null, field);
      }
    }
  }
  const items = schema.properties?.match;
  t.regex(verdict('match', Array.from({ length: items!.maxItems! + 1 }, (_, i) => `M${i}`)) ?? '', /expected a list of 0 to 16 items/);
  t.not(verdict('match', ['x'.repeat(items!.items!.maxLength! + 1)]), null);
});

test('same architectures', (t) => {
  const arches = schema.properties?.arch?.enum ?? [];
  for (const arch of arches) t.is(verdict('arch', arch), null, arch);
  t.is(verdict('arch', 'riscv64'), `p.json: arch: expected one of ${arches.map((a) => JSON.stringify(a)).join(', ')}, got "riscv64"`);
});

test('same patterns for ids, interface names and model strings (property)', (t) => {
  const idPattern = new RegExp(schema.properties!.id!.pattern!, 'u');
  const ifacePattern = new RegExp(schema.$defs!.interfaceName!.oneOf![0]!.pattern!, 'u');
  const modelPattern = new RegExp(schema.properties!.match!.items!.pattern!, 'u');
  t.is(schema.properties?.networkInterface?.$ref, '#/$defs/interfaceName');
  t.is(schema.properties?.ethernet?.properties?.interface?.$ref, '#/$defs/interfaceName');
  const unit = fc.constantFrom(...'abz09-_. A\t/é'.split(''));
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 70 }), (s) => {
      const idOk = verdict('id', s) === null;
      const ifaceOk = verdict('networkInterface', s) === null && verdict('ethernet.interface', s) === null;
      const modelOk = verdict('match', [s]) === null;
      return (
        idOk === idPattern.test(s) &&
        ifaceOk === ifacePattern.test(s) &&
        modelOk === (modelPattern.test(s) && s.length <= 128)
      );
    }),
    { numRuns: 500 },
  );
  t.is(verdict('networkInterface', null), null);
});

test('the Ethernet rule JSON Schema can state is stated', (t) => {
  const ethernet = schema.properties?.ethernet as JsonSchemaNode & { if?: unknown; then?: unknown };
  t.deepEqual(ethernet.if, { properties: { interface: { type: 'null' } } });
  t.deepEqual(ethernet.then, { properties: { ptpHardwareClock: { const: false } } });
});
