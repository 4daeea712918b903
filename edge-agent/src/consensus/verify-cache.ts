/**
 * Memoized results of pure checks (does this frame's signature verify, does this view-change hold). Keys name
 * the frame by its sha256, and every answer is a function of the key and the fixed replica keys, so a
 * simulation may share one cache among its replicas.
 */
import { PureCache } from '../memo/index.js';

export class VerifyCache extends PureCache {
  constructor(limit = 100_000) {
    super(limit);
  }
}
