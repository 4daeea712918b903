export { runDemo, type DemoOptions } from './demo.js';
export { renderTable, type AgentRow } from './table.js';
export { AgentProcess, cliCommand, type AgentEvent } from './process.js';
