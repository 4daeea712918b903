import { isUtf8 } from 'node:buffer';

/** Below this many non-ASCII bytes the JS loop beats the native call and its subarray view. */
const NATIVE_FROM = 32;

/**
 * True if bytes[start, end) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). Allocates nothing for short strings.
 */
export function isUtf8Range(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && b[i]! < 0x80) i++;
  if (i === end) return true;
  if (end - i >= NATIVE_FROM) return isUtf8(b.subarray(i, end));
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      i += 1;
    } else if (c < 0xc2) {
      return false; // a continuation byte, or the lead of an overlong 2-byte form
    } else if (c < 0xe0) {
      if (i + 1 >= end || (b[i + 1]! & 0xc0) !== 0x80) return false;
      i += 2;
    } else if (c < 0xf0) {
      if (i + 2 >= end) return false;
      const c1 = b[i + 1]!;
      // E0 needs A0.. (no overlongs), ED needs ..9F (no surrogates)
      if (c1 < (c === 0xe0 ? 0xa0 : 0x80) || c1 > (c === 0xed ? 0x9f : 0xbf)) return false;
      if ((b[i + 2]! & 0xc0) !== 0x80) return false;
      i += 3;
    } else if (c < 0xf5) {
      if (i + 3 >= end) return false;
      const c1 = b[i + 1]!;
      // F0 needs 90.. (no overlongs), F4 needs ..8F (nothing above U+10FFFF)
      if (c1 < (c === 0xf0 ? 0x90 : 0x80) || c1 > (c === 0xf4 ? 0x8f : 0xbf)) return false;
      if ((b[i + 2]! & 0xc0) !== 0x80 || (b[i + 3]! & 0xc0) !== 0x80) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}
