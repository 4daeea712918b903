import test from 'ava';
import { readFile } from 'node:fs/promises';
import { configTemplate } from '../../src/config/index.js';

const DOC = new URL('../../../docs/config.md', import.meta.url);

test('docs/config.md shows the defaults exactly as configTemplate() gives them', async (t) => {
  const doc = await readFile(DOC, 'utf8');
  const at = doc.indexOf('All defaults');
  t.true(at >= 0, 'docs/config.md has an "All defaults" paragraph');
  const block = /```json\n([\s\S]*?)```/.exec(doc.slice(at));
  t.truthy(block, 'a ```json block follows it');
  t.is(block?.[1], configTemplate());
});
