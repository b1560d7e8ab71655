/**
 * The fetch-based ObjectStore (bindings/oss/fetch/) pointed at a running OSS stand-in, with the stand-in's test
 * credentials and fast retries, for the tests of the web client and of the fetch transport.
 * @module
 */
import { fetchObjectStore, type FetchObjectStoreOptions } from '../../bindings/oss/fetch/store.js';
import type { ObjectStore } from '../../bindings/oss/object-store.js';
import { TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './oss-server.js';

/**
 * A fetch store over `bucket` of the stand-in `oss`.
 * @param extra options that replace the defaults (e.g. `fetch` to tamper with answers)
 * @example
 *   const client = new CryptoClient(standInFetchStore(env.oss, 'bkt'), { material });
 */
export function standInFetchStore(oss: OssServer, bucket: string, extra: Partial<FetchObjectStoreOptions> = {}): ObjectStore {
  return fetchObjectStore({
    endpoint: oss.endpoint,
    bucket,
    region: oss.region,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, accessKeySecret: TEST_ACCESS_KEY_SECRET },
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...extra,
  });
}
