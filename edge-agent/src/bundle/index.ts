/**
 * bundle/: a self-contained install unit per target architecture (x64, arm64): the
 * compiled agent with its production node_modules, optionally a Node.js runtime from the
 * npm registry, the systemd units, an install script that checks every file's SHA-256
 * before it touches a root, and bundle.json saying what the bundle carries and what the
 * agent does without (docs/bundle.md).
 */
export { BundleError, type BundleErrorCode } from './errors.js';
export { BUNDLE_ARCHES, binaryKind, isBundleArch, type BinaryKind, type BundleArch } from './arch.js';
export {
  DEFAULT_REPO_ROOT,
  UNIT_FILES,
  buildBundle,
  type BuildBundleOptions,
  type BundleDescription,
  type BundleResult,
} from './build.js';
export { MANIFEST_FILE, checkTree, formatManifest, hashTree, parseManifest, type ManifestCheck } from './manifest.js';
export {
  planModules,
  platformAllows,
  resolvePackage,
  type InstalledPackage,
  type LeftOut,
  type ModulePlan,
  type PackageManifest,
} from './modules-plan.js';
export { boardTable } from './scripts.js';
