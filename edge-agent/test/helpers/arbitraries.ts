import fc from 'fast-check';

/** True when no object inside `v` has an own `__proto__` key, which canonical CBOR refuses by design. */
function noProtoKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(noProtoKey);
  if (v !== null && typeof v === 'object') {
    return !Object.prototype.hasOwnProperty.call(v, '__proto__') && Object.values(v).every(noProtoKey);
  }
  return true;
}

/**
 * JSON values that canonical CBOR can carry. fast-check sometimes draws the key
 * `__proto__`, which encodeCanonical refuses on purpose; tests that only need
 * some valid value use this instead of fc.jsonValue.
 */
export function encodableJson(constraints: fc.JsonSharedConstraints = {}): fc.Arbitrary<fc.JsonValue> {
  return fc.jsonValue(constraints).filter(noProtoKey);
}
