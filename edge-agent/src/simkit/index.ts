/** Public face of simkit/ (floor 0): what the seeded simulators share, an event queue and a seeded generator. */
export { MinHeap } from './min-heap.js';
export { simRandom, type SimRandom } from './random.js';
