/**
 * overlay-sim/: a deterministic simulator of the overlay (issue 6, item 6).
 * Seeded, virtual time, simulated links with latency and loss; it drives the
 * overlay cores (NeighbourPolicy and kademliaChoice for topology, GossipCore
 * in the real mode, components and neighbourhoodOverlap for the
 * measurements). See docs/overlay-sim.md.
 */
export { SimError, type SimErrorCode } from './errors.js';
export { Rng } from './rng.js';
export { EventQueue } from './event-queue.js';
export { World, linkLatencyMs, type Choice, type LinkListener, type WorldOptions } from './world.js';
export { FloodModel, type ModelOptions } from './flood-model.js';
export { RealFlood, makeSigners, type RealOptions } from './flood-real.js';
export { overlapStats, pickRegions, stats, survivorsConnected, type Stats } from './experiment.js';
export { failureSweep, simulate, type CurvePoint, type SimMode, type SimOptions, type SimReport, type SweepOptions, type SweepPoint } from './simulate.js';
