/**
 * The KMS KeyId check on Decrypt (issue 12 §4, bindings/keys/kms-key-check.ts) over real HTTP: the real `ali-oss`
 * client against the OSS stand-in and the real `@alicloud/kms20160120` client against the KMS stand-in. A reader
 * configured with key X refuses an object wrapped under key Y (`KEY_NO_MATCH`, it used to decrypt it silently),
 * unless it opts in with `acceptAnyKmsKey: true`; key ARNs compare by their key id; aliases and readers without a
 * key id are not checked; and the option's type is checked.
 * @module
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { KeyUnwrapError, OssCryptoError } from '../bindings/errors.js';
import { checkDecryptKeyId } from '../bindings/keys/kms-key-check.js';
import { kmsKeyWrapper } from '../bindings/keys/kms.js';
import type { KmsServer } from './support/kms-server.js';
import type { OssServer } from './support/oss-server.js';
import { rejects, throwsCode } from './_util.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'kms-check-bkt';
const env = { oss: undefined as unknown as OssServer, kms: undefined as unknown as KmsServer, dir: '' };

function wrapper(keyId: string | undefined, extra: Record<string, unknown> = {}) {
  return kmsKeyWrapper({ keyId, region: 'cn-hangzhou', ...env.kms.credentials, endpoint: env.kms.endpoint, protocol: 'http', ...extra });
}
const client = (material: ReturnType<typeof wrapper>) => new CryptoClient(env.oss.client(BUCKET) as any, { material, retry: false });

const s = suite('KMS: Decrypt must have used the configured key');
useStandIns(s, env, { kms: true, tmpPrefix: 'oss-crypto-kms-check-' });

s('a reader of key X refuses an object wrapped under key Y; acceptAnyKmsKey reads it; its own objects read', async () => {
  const x = env.kms.createKey();
  const y = env.kms.createKey();
  await client(wrapper(y)).put('k/by-y', Buffer.from('written under Y'));
  await client(wrapper(x)).put('k/by-x', Buffer.from('written under X'));
  const err = await rejects(client(wrapper(x)).get('k/by-y'), KeyUnwrapError, 'KEY_NO_MATCH');
  assert.ok(err.message.includes(y) && err.message.includes(x), err.message);
  assert.is((await client(wrapper(x, { acceptAnyKmsKey: true })).get('k/by-y')).content!.toString(), 'written under Y');
  assert.is((await client(wrapper(x)).get('k/by-x')).content!.toString(), 'written under X');
  // A read-only reader without a key id has nothing to compare with.
  assert.is((await client(wrapper(undefined)).get('k/by-y')).content!.toString(), 'written under Y');
});

s('key ARNs compare by key id; aliases are not checked; the option is a boolean', () => {
  checkDecryptKeyId('acs:kms:cn-hangzhou:123456:key/key-1', 'key-1', false, 'content key');
  checkDecryptKeyId('key-1', 'acs:kms:cn-hangzhou:123456:key/key-1', false, 'content key');
  checkDecryptKeyId('alias/team-a', 'key-2', false, 'content key');
  checkDecryptKeyId('key-1', undefined, false, 'content key');
  checkDecryptKeyId('key-1', 'key-2', true, 'content key');
  throwsCode(() => checkDecryptKeyId('acs:kms:cn-hangzhou:123456:key/key-1', 'key-2', false, 'IV'), KeyUnwrapError, 'KEY_NO_MATCH', /the IV was wrapped under KMS key "key-2", not this reader's "key-1"/);
  assert.throws(() => wrapper('k', { acceptAnyKmsKey: 'yes' }), (e: unknown) => e instanceof TypeError && !(e instanceof OssCryptoError));
});

s.run();
