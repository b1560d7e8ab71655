/**
 * Compatibility path: the retry policy moved to `bindings/util/retry.ts` (a leaf under every caller).
 * @module
 */
export * from '../util/retry.js';
