/**
 * The browser and edge entry of ali-oss-crypto (`ali-oss-crypto/core`): the core path only, as re-exports.
 *
 * What is here runs wherever there is WebAssembly and `globalThis.crypto.getRandomValues` (browsers, web
 * workers, Deno, Bun, Cloudflare-style workers, Node): the AES-256-CTR cipher over the embedded WebAssembly
 * core (docs/FORMAT.md §1), the metadata envelope codec and its description (§2, §3, §5), the RSA key wrapper
 * (node-forge; §2.1, §3) with the KeyRing that picks a material by matdesc (§2.3), CRC-64 (§6), and the error
 * classes. Nothing reachable from this file imports a Node builtin or ali-oss: the browser bundle's build
 * (test/browser/bundle.ts, `npm run build:browser`) fails if anything does, and test/core-path.test.ts checks
 * it on every test run.
 *
 * In a browser's main thread synchronous WebAssembly compilation is forbidden for modules of this size, so call
 * `await initWasm()` once before the first `aesCtr`; elsewhere the first use instantiates the core.
 *
 * Deliberately not here: the client over ali-oss, uploads, downloads and the CLI (they need node:fs / node:stream
 * or ali-oss's Node build; use the package's main entry), the node:crypto CTR engine (`ali-oss-crypto/native`),
 * and the KMS wrapper (its default client is the Node-only `@alicloud/kms20160120`).
 * @module
 */

// errors
export {
  OssCryptoError,
  MetadataError,
  KeyUnwrapError,
  KeyWrapError,
  KeyInvalidError,
  KmsError,
  IntegrityError,
  PartError,
  CheckpointError,
  PlaintextObjectError,
  UnsupportedOperationError,
  WasmCoreError,
} from './errors.js';
export type { OssCryptoErrorCode } from './errors.js';

// cipher
export { aesCtr, aesCtrXor, counterAt, KEY_BYTES, IV_BYTES, BLOCK_BYTES } from './cipher/aes-ctr.js';
export type { AesCtrOptions, CtrStream, CtrBackend, CtrSession } from './cipher/aes-ctr.js';
export { initWasm, wasmBackend } from './cipher/wasm.js';

// envelope
export {
  encodeEnvelope,
  decodeEnvelope,
  matdescEquals,
  canonicalMatdesc,
  metaFromEnvelope,
  headersFromMeta,
} from './envelope/codec.js';
export type { Envelope, HeaderValue, HeadersInput } from './envelope/codec.js';
export { describeEnvelope } from './envelope/describe.js';
export type { EnvelopeDescription } from './envelope/describe.js';
export { ENVELOPE_HEADERS, CEK_ALG, WRAP_ALG, V2_WRAP_ALGS, META_PREFIX, metaKey } from './envelope/headers.js';
export {
  COMMITMENT_HEADER,
  COMMITMENT_VERSION,
  COMMITMENT_LABEL,
  computeCommitment,
  commitmentMatches,
  commitmentFromHeaders,
  encodeCommitmentInput,
} from './envelope/commitment.js';

// keys
export type { ContentKey, WrappedContentKey, KeyWrapper, Matdesc } from './keys/types.js';
export { KeyRing } from './keys/keyring.js';
export type { KeyRingOptions, KeyResolver, NewContentKey } from './keys/keyring.js';
export {
  RsaKeyWrapper,
  rsaKeyWrapper,
  generateRsaKeyPair,
  portableRsaEngine,
  forgeRsaEngine,
  RSA_MIN_BITS,
  RSA_MAX_BITS,
} from './keys/rsa.js';
export type { RsaPadding, RsaKeyWrapperOptions, RsaEngine, RsaPublicKeyOps, RsaPrivateKeyOps } from './keys/rsa.js';
export { wasmRsaEngine } from './keys/rsa-wasm.js';
export { initWasmRsa } from './wasm/rsa.js';
export type { RsaReadPolicyOptions } from './keys/rsa-read-policy.js';
export { checkRsaPublicNumbers, RSA_MIN_PUBLIC_EXPONENT, RSA_MIN_WRITE_BITS } from './keys/rsa-public-check.js';

// integrity
export { crc64, Crc64, crc64Combine, crc64ToDecimal, parseCrc64Decimal } from './integrity/crc64.js';
