/**
 * The Node-only native engines, as the `ali-oss-crypto/native` entry point: AES-256-CTR through node:crypto
 * (AES-NI) and raw RSA through node:crypto. Both give the same bytes as the portable defaults (the WASM core and
 * node-forge / Web Crypto) and are chosen explicitly, so that the core path (`ali-oss-crypto/core`) never imports
 * a Node builtin. The Node `CryptoClient` already prefers `nodeRsaEngine` for RSA materials it builds itself.
 * @module
 */
export { nativeBackend } from './cipher/native.js';
export { nodeRsaEngine, preferNodeRsaEngine } from './keys/rsa-native.js';
export { nodeRsaWorkerEngine, type RsaWorkerEngine, type RsaWorkerEngineOptions } from './keys/rsa-workers.js';
