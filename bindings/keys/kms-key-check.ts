/**
 * Which CMK a KMS Decrypt used (issue 12 §4). Decrypt takes no key id: KMS finds the key inside the blob, so a
 * reader configured with key X decrypts, without a word, any blob made under a key Y its credentials may use.
 * Decrypt answers the `KeyId` it used; a wrapper configured with a key id compares the two and refuses a blob of
 * another key (`KEY_NO_MATCH`) unless the reader opted in to any key (`acceptAnyKmsKey: true`).
 *
 * Ids compare as KMS writes them: a key id, or the id at the end of a key ARN (`acs:kms:<region>:<uid>:key/<id>`).
 * An alias (`alias/...`) names no fixed key, so a wrapper configured with one cannot check and does not; nor can an
 * injected client that answers no `KeyId` (KMS itself always does).
 * Deliberately not here: the KMS call itself (keys/kms.ts).
 * @module
 */
import { KeyUnwrapError } from '../errors.js';

/**
 * Refuses a Decrypt answer made with another key than the configured one.
 * @param configured the wrapper's `keyId` (undefined or an alias: nothing to compare)
 * @param answered the `KeyId` Decrypt answered (undefined when the client gave none)
 * @param acceptAny the reader's `acceptAnyKmsKey`
 * @param what which value was decrypted, for the message
 * @throws {KeyUnwrapError} `KEY_NO_MATCH` when the keys differ
 * @example
 *   checkDecryptKeyId('key-1', answer.keyId, false, 'content key');
 */
export function checkDecryptKeyId(configured: string | undefined, answered: string | undefined, acceptAny: boolean, what: string): void {
  if (acceptAny || configured === undefined || configured.startsWith('alias/')) return;
  const want = bareKeyId(configured);
  // KMS always answers KeyId; only an injected client may leave it out, and then there is nothing to compare.
  if (answered === undefined || answered === '') return;
  const got = bareKeyId(answered);
  if (got === want) return;
  throw new KeyUnwrapError(
    'KEY_NO_MATCH',
    `the ${what} was wrapped under KMS key ${JSON.stringify(got)}, not this reader's ${JSON.stringify(want)}: ` +
      'the object was written with another key (or its blob was pasted from another object). Add a material for ' +
      'that key, or set acceptAnyKmsKey: true to accept any key your credentials can use',
  );
}

/** The key id of a key ARN; anything else as it is. */
function bareKeyId(id: string): string {
  const m = /^acs:kms:[^:]*:[^:]*:key\/(.+)$/.exec(id);
  return m ? m[1] : id;
}
