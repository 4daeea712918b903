/** Public face of memo/ (floor 0): a bounded cache of pure results shared by the protocol cores. */
export { PureCache } from './pure-cache.js';
