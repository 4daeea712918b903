/**
 * Why a value cannot be encoded, thrown inside the encoder's walk. Each container on the
 * way out adds its key or index, so the success path builds no path strings.
 */
export class PathError extends Error {
  readonly segments: (string | number)[] = [];
}

/** The path of the refused value, e.g. `$.body.items[2]`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let path = '$';
  for (const s of segments) path += typeof s === 'number' ? `[${s}]` : `.${s}`;
  return path;
}
