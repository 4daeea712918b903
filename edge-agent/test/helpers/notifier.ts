/** A Notifier that records what the agent tells systemd, in order (watchdog switches included, as `watchdog on|off`). */
import type { Notifier, NotifyStats } from '../../src/agent/index.js';

export class RecordingNotifier implements Notifier {
  readonly events: string[] = [];
  async ready(): Promise<void> {
    this.events.push('READY=1');
  }
  async status(text: string): Promise<void> {
    this.events.push(`STATUS=${text}`);
  }
  async stopping(): Promise<void> {
    this.events.push('STOPPING=1');
  }
  startWatchdog(): void {
    this.events.push('watchdog on');
  }
  stopWatchdog(): void {
    this.events.push('watchdog off');
  }
  /** What systemd was told, without the watchdog switches. */
  get messages(): string[] {
    return this.events.filter((e) => !e.startsWith('watchdog '));
  }
  stats(): NotifyStats {
    return { enabled: true, backend: 'recording', watchdogPeriodMs: null, sent: this.events.length, failed: 0, watchdogSent: 0, watchdogSkippedBusy: 0 };
  }
}
