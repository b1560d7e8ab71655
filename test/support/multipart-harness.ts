/**
 * The shared set-up of the multipart suites (test/multipart*.test.ts): the OSS and KMS stand-ins through
 * useStandIns, the four standard materials (RSA PKCS#1, RSA OAEP, KMS `go`, KMS `oss2`), a client factory for a
 * material and engine, reading an object back through an independent decryptor, and the check that a
 * serialised checkpoint or context holds no plain key.
 * @module
 */
import type { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoClient } from '../../bindings/client/crypto-client.js';
import { toHex } from '../_util.js';
import { useStandIns, type StandIns } from './stand-ins.js';
import { cryptoClientFromSpec, decryptStored, standardMaterialSpecs, type MaterialSpec } from './upload-child.js';

/** The stand-ins plus the materials made for them (filled in by the suite's `before` hooks). */
export interface MultipartEnv extends StandIns {
  materials: Array<{ name: string; wrapAlg: string; spec: MaterialSpec }>;
}

/** One file's harness: `setup(suite)` per suite; the rest is valid inside tests. */
export function multipartHarness(bucket: string, tmpPrefix: string) {
  const env = {} as MultipartEnv;
  return {
    env,
    setup(s: ReturnType<typeof suite>): void {
      useStandIns(s, env, { kms: true, tmpPrefix });
      s.before(() => {
        env.materials = standardMaterialSpecs({ endpoint: env.kms.endpoint, credentials: env.kms.credentials, keyId: env.kms.createKey() });
      });
    },
    /**
     * A CryptoClient for `bucket` with one material and engine. Defaults: the first material and the WASM core
     * (`'wasm'`, named explicitly: the client's own default in Node on x64/arm64 is node:crypto, `'native'`), so
     * the portable engine every runtime can use stays the one these suites exercise most.
     */
    client(spec: MaterialSpec = env.materials[0].spec, backend: 'wasm' | 'native' = 'wasm'): Promise<CryptoClient> {
      return cryptoClientFromSpec(env.oss.clientOptions(bucket), spec, backend);
    },
    /** The object as stored, decrypted without the client. */
    async storedPlain(key: string, spec: MaterialSpec): Promise<Buffer> {
      const stored = env.oss.getObject(bucket, key)!;
      return decryptStored(stored.body!, stored.headers, spec);
    },
  };
}

/** Fails when `text` holds the key or IV in hex (either case), base64 or base64url. */
export function assertNoKeyIn(text: string, content: { key: Uint8Array; iv: Uint8Array }, what = 'the serialised text'): void {
  for (const secret of [content.key, content.iv]) {
    const b = Buffer.from(secret);
    for (const form of [toHex(b), toHex(b).toUpperCase(), b.toString('base64'), b.toString('base64url')]) {
      assert.not.ok(text.includes(form), `a plain key or IV appears in ${what}`);
    }
  }
}
