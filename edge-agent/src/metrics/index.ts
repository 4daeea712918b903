/** metrics/: the one registry of figures that every room publishes into and telemetry reads. */
export { Counter, Gauge, MetricsRegistry, type Collector, type MetricValue, type MetricsSnapshot } from './registry.js';
export { MetricsError, type MetricsErrorCode } from './errors.js';
