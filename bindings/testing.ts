/**
 * `ali-oss-crypto/testing`: the loopback OSS and KMS stand-ins this package's own tests run against, for your
 * tests. Both listen on 127.0.0.1 only, keep everything in memory, and speak the wire protocols of the real clients:
 * `ali-oss` (and therefore this package's `CryptoClient`) against the OSS one, `@alicloud/kms20160120` (and
 * `kmsKeyWrapper`) against the KMS one. Requests are signed and checked as OSS and KMS check them.
 *
 * The OSS stand-in enforces what OSS itself refuses in client-side-encryption requests (missing or inconsistent
 * `x-oss-meta-client-side-encryption-*` headers, wrong part sizes, metadata changes of encrypted objects, ...):
 * such a request fails with HTTP 400 `InvalidArgument` and the OSS error number in `err.ecCode`, as against OSS
 * ({@link CSE_EC} lists them). These rules are always on.
 *
 * The implementation lives in test/support/ of the repository (oss-server.ts, kms-server.ts and their modules),
 * where the package's tests use it; this entry re-exports it, and the build compiles it into dist/.
 *
 * @example
 *   import OSS from 'ali-oss';
 *   import { startOssServer } from 'ali-oss-crypto/testing';
 *
 *   const oss = await startOssServer();            // http://127.0.0.1:<free port>
 *   oss.createBucket('my-bucket');
 *   const client = new OSS(oss.clientOptions('my-bucket'));
 *   await client.put('hello.txt', Buffer.from('hi'));
 *   await oss.close();
 * @example
 *   import { startKmsServer } from 'ali-oss-crypto/testing';
 *   import { kmsKeyWrapper } from 'ali-oss-crypto';
 *
 *   const kms = await startKmsServer();
 *   const wrapper = kmsKeyWrapper({ keyId: kms.createKey(), region: 'cn-hangzhou', ...kms.credentials,
 *     endpoint: kms.endpoint, protocol: 'http' });
 *   // ...
 *   await kms.close();
 *
 * Options of {@link startOssServer} ({@link OssServerOptions}): `port` (0 = free), `region` (default
 * `oss-cn-hangzhou`), `buckets` to create, `autoCreateBuckets` (default true), `minPartSize` (default 102400, as
 * OSS), `addressing` (`auto`/`path`/`virtual`), extra `credentials` (the pair {@link TEST_ACCESS_KEY_ID} /
 * {@link TEST_ACCESS_KEY_SECRET} is always accepted), `anonymous` (accept unsigned requests), `storeBodies`.
 * The server also offers `inject()` (5xx answers, cut connections, delays), a request `log`, and direct access
 * to stored objects (`getObject`, `putObjectRaw`, `listKeys`, `uploads`).
 *
 * Options of {@link startKmsServer} ({@link StartKmsServerOptions}): `port` (0 = free), `accessKeys` (default
 * {@link DEFAULT_KMS_CREDENTIALS}), `securityTokens` (STS), `keys` to create up front. The server offers
 * `createKey()`, `clientConfig()` for `new Kms(...)`, `failNext()` and a `requests` log (never plaintexts).
 * @module
 */
export {
  startOssServer,
  signV1,
  TEST_ACCESS_KEY_ID,
  TEST_ACCESS_KEY_SECRET,
  type FaultHandle,
  type OssClientOptions,
  type OssCredential,
  type OssFault,
  type OssLogEntry,
  type OssObjectSnapshot,
  type OssRequestKind,
  type OssServer,
  type OssServerOptions,
  type OssUploadSnapshot,
} from '../test/support/oss-server.js';
export { CSE_EC } from '../test/support/oss-cse-rules.js';
export {
  startKmsServer,
  DEFAULT_KMS_CREDENTIALS,
  type KmsFaultOptions,
  type KmsRequestRecord,
  type KmsServer,
  type StartKmsServerOptions,
} from '../test/support/kms-server.js';
