export { BoardError, type BoardErrorCode } from './errors.js';
export { parseProfile, type BoardProfile } from './profile.js';
export { DEFAULT_PROFILE_DIR, loadProfiles } from './load.js';
export { detectBoard, type DetectOptions, type Detection, type DetectedBy } from './detect.js';
