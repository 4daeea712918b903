export { writeFileAtomic, createFileAtomic, fsyncDir } from './atomic.js';
export { AppendLog, type AppendLogOptions } from './log.js';
export { scanLog, type LogScan } from './read.js';
export type { RecoveryReport, DroppedTail } from './recover.js';
export type { RecordFault } from './scan.js';
export { LogError, type LogErrorCode, type LogErrorDetails } from './errors.js';
export { DEFAULT_MAX_RECORD_BYTES, MAX_RECORD_LIMIT } from './format.js';
export { readSmallFile, type SmallFileOptions } from './small-file.js';
export { DurableQueue, DEFAULT_COMPACT_SLACK_BYTES, MAX_QUEUE_ENTRIES, type DurableQueueOptions, type QueueEntry, type PushResult, type DroppedCounts } from './queue.js';
