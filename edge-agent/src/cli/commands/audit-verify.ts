import { verifyAuditDir } from '../../audit/index.js';
import { parse } from '../args.js';
import { CommandError, UsageError } from '../errors.js';

export async function auditVerify(args: string[]): Promise<number> {
  const { values } = parse(args, { dir: { type: 'string' } });
  if (values.dir === undefined) throw new UsageError('audit verify needs --dir DIR');
  const report = await verifyAuditDir(values.dir);
  if (!report.ok) throw new CommandError(`${values.dir}: audit trail broken at seq ${report.firstBadSeq}: ${report.reason}`);
  process.stdout.write(`${values.dir}: ok, ${report.entries} entries, last seq ${report.lastSeq}\n`);
  return 0;
}
