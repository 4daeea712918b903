export { runDemo, type DemoOptions } from './demo.js';
export { renderTable, type AgentRow } from './table.js';
