export { Agent, readPassphrase, type AgentStatus, type AgentDeps } from './agent.js';
export { Lifecycle, LifecycleError, type Service, type AgentState, type StopReport } from './lifecycle.js';
export {
  DEFAULT_CHILD_TIMEOUT_MS,
  NotifyError,
  SdNotifier,
  SystemdNotifyBackend,
  defaultSpawn,
  findOnPath,
  loadNativeNotify,
  type Environment,
  type NativeNotifyLoad,
  type NotifierLog,
  type Notifier,
  type NotifyBackend,
  type NotifyChild,
  type NotifyErrorCode,
  type NotifyStats,
  type SdNotifierOptions,
  type SpawnFn,
  type SystemdNotifyBackendOptions,
} from './notify.js';
