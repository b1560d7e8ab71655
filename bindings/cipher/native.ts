/**
 * The runtime's native AES-256-CTR (node:crypto, AES-NI where the CPU has it) as a {@link CtrBackend}.
 *
 * For Node ingestion services that want native speed; pass it explicitly as `{ backend: nativeBackend }`.
 * It lives behind its own entry point (`ali-oss-crypto/native`) so that the core path imports nothing from
 * Node. OpenSSL's CTR mode increments the whole 16-byte counter block (mod 2^128), as docs/FORMAT.md §1 requires,
 * so it gives the same bytes as the WASM core.
 * @module
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import type { CtrBackend, CtrSession } from './backend.js';

/**
 * AES-256-CTR through node:crypto.
 * @example
 *   import { nativeBackend } from 'ali-oss-crypto/native';
 *   const ct = aesCtrXor(cek, iv, data, 0, { backend: nativeBackend });
 */
export const nativeBackend: CtrBackend = {
  name: 'native',
  open(key: Uint8Array, counter: Uint8Array, skip: number): CtrSession {
    let cipher: Cipher | undefined = createCipheriv('aes-256-ctr', key, counter);
    // Position inside the first block by discarding `skip` keystream bytes.
    if (skip > 0) cipher.update(new Uint8Array(skip));
    return {
      process(input: Uint8Array, output: Uint8Array): void {
        if (cipher === undefined) throw new TypeError('this CTR session was disposed');
        output.set(cipher.update(input));
      },
      produce(input: Uint8Array): Uint8Array {
        if (cipher === undefined) throw new TypeError('this CTR session was disposed');
        return cipher.update(input);
      },
      dispose(): void {
        // OpenSSL frees its key schedule when the cipher is finalised; JS gives no stronger guarantee.
        cipher?.final();
        cipher = undefined;
      },
    };
  },
};
