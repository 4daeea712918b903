import { BundleError } from './errors.js';

/** Target architectures, spelled as Node's process.arch and npm's "cpu" field spell them. */
export const BUNDLE_ARCHES = ['x64', 'arm64'] as const;
export type BundleArch = (typeof BUNDLE_ARCHES)[number];

export function isBundleArch(value: unknown): value is BundleArch {
  return typeof value === 'string' && (BUNDLE_ARCHES as readonly string[]).includes(value);
}

export function requireArch(value: unknown): BundleArch {
  if (!isBundleArch(value)) {
    throw new BundleError('BAD_ARGUMENT', `arch: expected one of ${BUNDLE_ARCHES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** What a binary was built for, read from its ELF header. */
export type BinaryKind = BundleArch | 'other-elf' | 'not-elf';

/** ELF e_machine values (System V ABI, processor supplements). */
const EM_X86_64 = 0x3e;
const EM_AARCH64 = 0xb7;
/** Enough of the header to reach e_machine (offset 18, two bytes). */
export const ELF_HEADER_BYTES = 20;

/**
 * Reads the target of a native binary from its first bytes, so that an addon or a
 * Node runtime built for one architecture is never shipped as if it ran on another.
 * Only 64-bit little-endian ELF counts as x64 or arm64: both targets are that.
 */
export function binaryKind(head: Uint8Array): BinaryKind {
  if (!(head instanceof Uint8Array)) throw new BundleError('BAD_ARGUMENT', 'binaryKind: head must be a Uint8Array');
  if (head.length < ELF_HEADER_BYTES || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) {
    return 'not-elf';
  }
  const is64 = head[4] === 2;
  const littleEndian = head[5] === 1;
  if (!is64 || !littleEndian) return 'other-elf';
  const machine = head[18]! | (head[19]! << 8);
  if (machine === EM_X86_64) return 'x64';
  if (machine === EM_AARCH64) return 'arm64';
  return 'other-elf';
}

/** Rust's target triple directory for an architecture (native-napi/target/<triple>/release). */
export function rustTriple(arch: BundleArch): string {
  return arch === 'x64' ? 'x86_64-unknown-linux-gnu' : 'aarch64-unknown-linux-gnu';
}
