import { loadConfig } from '../../config/index.js';
import { parse } from '../args.js';
import { UsageError } from '../errors.js';

export async function configCheck(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { print: { type: 'boolean' } }, 1);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('config check needs a FILE');
  const config = await loadConfig(file);
  process.stdout.write(values.print ? `${JSON.stringify(config, null, 2)}\n` : `${file}: ok\n`);
  return 0;
}
