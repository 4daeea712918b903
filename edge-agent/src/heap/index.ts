/** Public face of heap/ (floor 0): the binary min-heap the simulators queue their events in. */
export { MinHeap } from './min-heap.js';
