// The part of circomlibjs (no typings of its own) the tests compare against.
declare module 'circomlibjs' {
  interface PoseidonField {
    toObject(x: Uint8Array): bigint;
  }
  interface CircomlibPoseidon {
    (inputs: bigint[]): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<CircomlibPoseidon>;
}
