/**
 * The WebAssembly {@link RsaEngine}: RSA arithmetic in the constant-time core of assembly/rsa.ts, for every
 * runtime (docs/FORMAT.md §2.1, §3). Private operations are CRT exponentiations with fixed windows read through
 * masks, base-blinded and checked against the public key before release (bindings/wasm/rsa.ts says how);
 * PKCS#1 v1.5 blocks are built and checked by pkcs1.ts, OAEP-SHA1 blocks by oaep.ts, both with masks.
 *
 * This is what lets a browser, Deno or a Worker read `RSA/NONE/PKCS1Padding` objects (Web Crypto has no
 * RSAES-PKCS1-v1_5) at a cost close to native, without node-forge's variable-time exponentiation. No `node:`
 * import and no node-forge: keys arrive as DER (rsa-der.ts reads them).
 *
 * Where synchronous WebAssembly compilation is forbidden (a browser's main thread), call `await initWasmRsa()`
 * once before the first key is imported.
 * @module
 */
import { KeyUnwrapError } from '../errors.js';
import { WasmRsaPrivateKey, WasmRsaPublicKey } from '../wasm/rsa.js';
import { oaepDecode, oaepEncode } from './oaep.js';
import { pkcs1v15Pad } from './pkcs1.js';
import { randomBytes } from '../util/random.js';
import { readRsaPkcs8, readRsaSpki } from './rsa-der.js';
import type { RsaEngine, RsaPrivateKeyOps, RsaPublicKeyOps } from './rsa-engine.js';

/**
 * RSA in WebAssembly: raw RSA for PKCS#1 v1.5 unwrapping, OAEP-SHA1, and both public encryptions.
 * @example
 *   import { rsaKeyWrapper, wasmRsaEngine } from 'ali-oss-crypto/core';
 *   const reader = rsaKeyWrapper({ privateKey: pem, engine: wasmRsaEngine });
 *   const content = await reader.unwrap(wrapped);
 */
export const wasmRsaEngine: RsaEngine = Object.freeze({
  name: 'wasm',
  importPublicKey(spki: Uint8Array): RsaPublicKeyOps {
    const { n, e } = readRsaSpki(spki);
    const key = new WasmRsaPublicKey(n, e);
    const encrypt = (em: Uint8Array): Uint8Array => {
      try {
        return key.apply(em);
      } finally {
        em.fill(0); // it holds the content key in clear
      }
    };
    return {
      encryptPkcs1: (data) => encrypt(pkcs1v15Pad(data, key.size, randomFill)),
      encryptOaep: (data) => encrypt(oaepEncode(data, key.size, randomFill)),
    };
  },
  importPrivateKey(pkcs8: Uint8Array): RsaPrivateKeyOps {
    const key = new WasmRsaPrivateKey(readRsaPkcs8(pkcs8), { random: randomFill });
    return {
      decryptRaw: (data) => key.apply(data),
      decryptOaep(data) {
        const em = key.apply(data);
        const { valid, message } = oaepDecode(em);
        em.fill(0);
        if (valid !== 1) throw new KeyUnwrapError('KEY_UNWRAP_FAILED', 'RSA-OAEP decoding failed');
        return message;
      },
    };
  },
});

/** Fills `bytes` from the platform CSPRNG (random.ts: `KEY_INVALID` where there is none). */
function randomFill(bytes: Uint8Array): void {
  const fresh = randomBytes(bytes.length);
  bytes.set(fresh);
  fresh.fill(0);
}
