/**
 * The dealing cores' cache of pure results (is this signed round-1 package valid, what point do these bytes
 * decode to, what public package do these commitments give); keys name the session, threshold and rule where
 * the answer depends on them. A real member keeps its own; a simulation shares one among its members.
 */
import { PureCache } from '../memo/index.js';

export class DealingCache extends PureCache {}
