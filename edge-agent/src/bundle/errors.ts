/** Every failure to build a bundle is a BundleError with one of these codes. */
export type BundleErrorCode =
  | 'BAD_ARGUMENT' // a caller passed something of the wrong type or shape (a bug, or a bad option)
  | 'NOT_BUILT' // edge-agent/dist is missing: the sources were never compiled
  | 'MISSING_SOURCE' // a file the bundle must carry (unit, package.json, template) is not in the checkout
  | 'MISSING_DEPENDENCY' // a production dependency is not installed in node_modules
  | 'BAD_PACKAGE' // a package.json in node_modules cannot be read or is not an object
  | 'NATIVE_UNAVAILABLE' // a required (not optional) package has no native build for the target architecture
  | 'UNSAFE_PATH' // a file name the manifest or the install script cannot carry safely, or a link
  | 'NODE_RUNTIME' // the Node.js runtime could not be fetched, or is not one for the target
  | 'BAD_MANIFEST' // a MANIFEST.sha256 line is not "<64 hex>  <path>"
  | 'OUTPUT_EXISTS'; // the output path holds something that is not a bundle we may replace

export class BundleError extends Error {
  override readonly name = 'BundleError';
  constructor(
    readonly code: BundleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
