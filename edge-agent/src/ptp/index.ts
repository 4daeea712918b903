/**
 * Public face of ptp/: the shell that runs a PTP port (time/) over real
 * sockets: the native addon's kernel or hardware timestamps, or Node's dgram
 * as a degraded fallback.
 */
export { PtpShellError, type PtpShellErrorCode } from './errors.js';
export { timePropertiesFor, type PtpTransport, type StampSource, type TransportOptions } from './transport.js';
export { openNativeTransport, type NativeTransportOptions } from './transport-native.js';
export { openDgramTransport, ipv4Of } from './transport-dgram.js';
export { openTransport, type OpenTransportOptions, type Timestamping } from './open.js';
export { PtpNode, type PtpNodeOptions } from './node.js';
export { PtpClock, type PtpTimeSource } from './clock.js';
export { clockIdentityFromMac } from './identity.js';
