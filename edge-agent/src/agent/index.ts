export { Agent, readPassphrase, type AgentStatus, type AgentDeps } from './agent.js';
export { Lifecycle, LifecycleError, type Service, type AgentState, type StopReport } from './lifecycle.js';
