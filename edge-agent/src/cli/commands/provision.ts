import { systemClock } from '../../clock/index.js';
import { expectedPowSeconds, measureHashRate } from '../../identity/index.js';
import {
  ProgressThrottle,
  formatDuration,
  formatProgress,
  formatSummary,
  provisionFleet,
  type ProgressSnapshot,
  type ProvisionPlan,
} from '../../provision/index.js';
import { intOption, parse } from '../args.js';
import { UsageError } from '../errors.js';

/**
 * `edge-agent provision --manifest FILE --out DIR [--jobs N]`. The summary goes
 * to stdout, progress and warnings to stderr; nothing secret goes anywhere.
 */
export async function provision(args: string[]): Promise<number> {
  const { values } = parse(args, {
    manifest: { type: 'string' },
    out: { type: 'string' },
    jobs: { type: 'string' },
  });
  if (values.manifest === undefined) throw new UsageError('provision needs --manifest FILE');
  if (values.out === undefined) throw new UsageError('provision needs --out DIR');
  const jobs = intOption('jobs', values.jobs, 1, 256);

  const err = process.stderr;
  const tty = err.isTTY === true;
  // On a terminal the line is redrawn in place; in a log, one line every few seconds.
  const throttle = new ProgressThrottle(systemClock, tty ? 100 : 5000);
  let drawn = false;
  const clear = (): void => {
    if (tty && drawn) err.write('\r\x1b[K');
    drawn = false;
  };
  let began = 0;
  const onPlan = (plan: ProvisionPlan): void => {
    if (plan.create.length === 0) return;
    began = systemClock.now();
    const perBoard = expectedPowSeconds(plan.difficulty, measureHashRate(100));
    err.write(
      `proof of work: ${plan.create.length} new ${plan.create.length === 1 ? 'identity' : 'identities'} at difficulty ${plan.difficulty} ` +
        `on ${plan.workers} ${plan.workers === 1 ? 'thread' : 'threads'}, about ${formatDuration(perBoard)} each here\n`,
    );
  };
  const onProgress = (snapshot: ProgressSnapshot): void => {
    if (snapshot.done === snapshot.total) {
      clear();
      err.write(`proof of work: ${snapshot.total}/${snapshot.total} boards in ${formatDuration((systemClock.now() - began) / 1000)}\n`);
      return;
    }
    if (!throttle.due()) return;
    drawn = true;
    err.write(tty ? `\r${formatProgress(snapshot)}\x1b[K` : `${formatProgress(snapshot)}\n`);
  };

  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await provisionFleet({
      manifest: values.manifest,
      out: values.out,
      ...(jobs !== undefined ? { jobs } : {}),
      signal: abort.signal,
      onPlan,
      onProgress,
    });
    clear();
    for (const warning of result.warnings) err.write(`warning: ${warning}\n`);
    process.stdout.write(formatSummary(result));
    return 0;
  } finally {
    clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
