import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How to start this same CLI in a child process, compiled (dist) or from sources through tsx. */
export function cliCommand(): { command: string; args: string[] } {
  const js = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (existsSync(js)) return { command: process.execPath, args: [js] };
  const ts = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
  return { command: process.execPath, args: ['--import=tsx', ts] };
}

export type AgentEvent =
  | { kind: 'log'; record: Record<string, unknown> }
  | { kind: 'stderr'; line: string }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null };

/**
 * One `edge-agent run` child. It runs in its own process group so that a Ctrl-C
 * at the terminal reaches only the demo, which then stops each agent in order.
 */
export class AgentProcess {
  private readonly child: ChildProcess;
  private exited: Promise<void>;

  constructor(configFile: string, onEvent: (event: AgentEvent) => void) {
    const { command, args } = cliCommand();
    this.child = spawn(command, [...args, 'run', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        const record: unknown = JSON.parse(line);
        if (typeof record === 'object' && record !== null) onEvent({ kind: 'log', record: record as Record<string, unknown> });
      } catch {
        onEvent({ kind: 'stderr', line });
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => onEvent({ kind: 'stderr', line }));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        onEvent({ kind: 'exit', code, signal });
        resolve();
      });
      this.child.once('error', (err) => {
        onEvent({ kind: 'stderr', line: err.message });
        onEvent({ kind: 'exit', code: null, signal: null });
        resolve();
      });
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
