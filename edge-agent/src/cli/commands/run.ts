import { pino } from 'pino';
import { Agent } from '../../agent/index.js';
import { loadConfig } from '../../config/index.js';
import { parse } from '../args.js';
import { UsageError } from '../errors.js';

/** Exit code after a restart command: non-zero, so systemd's Restart=on-failure starts us again (EX_TEMPFAIL). */
export const RESTART_EXIT_CODE = 75;

/** Runs the agent until SIGTERM or SIGINT (or a restart command); a second signal exits at once. */
export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' } });
  if (values.config === undefined) throw new UsageError('run needs --config FILE');
  const config = await loadConfig(values.config);
  const log = pino({ level: config.log.level, base: { pid: process.pid, node: config.nodeName ?? null } });
  let stopping: Promise<number> | undefined;
  let settle: (stop: Promise<number>) => void = () => {};
  // No polling: an idle agent should not wake up for nothing.
  const stopped = new Promise<number>((resolve) => {
    settle = (stop) => void stop.then(resolve);
  });
  const agent = new Agent(config, {
    log,
    onRestart: () => {
      if (stopping) return;
      log.info({ event: 'restart' }, 'restart command: stopping to be started again');
      stopping = agent.stop().then(() => RESTART_EXIT_CODE);
      settle(stopping);
    },
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ event: 'signal', signal }, 'second signal: exiting now');
      log.flush();
      process.exit(1);
    }
    log.info({ event: 'signal', signal }, `${signal}: stopping`);
    stopping = agent.stop().then((report) => {
      for (const u of report.unclean) log.error({ event: 'unclean-stop', service: u.name }, u.reason);
      return report.unclean.length === 0 ? 0 : 1;
    });
    settle(stopping);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  try {
    await agent.start();
  } catch (err) {
    log.fatal({ event: 'start-failed' }, err instanceof Error ? err.message : String(err));
    log.flush();
    throw err;
  }
  // Stay up until a signal (or a restart command) has started the stop, then report how it went.
  const code = await stopped;
  log.flush();
  return code;
}
