/**
 * Lists every object under a prefix through the {@link ObjectStore}, page by page (ListObjects with `marker`,
 * 1000 keys a page), as an async iterable, so a job over millions of keys holds one page in memory. Transient
 * failures of a page are retried with the client's policy.
 *
 * Deliberately not here: sharding and resuming (run-job.ts decides which listed objects to act on).
 * @module
 */
import type { ObjectStore } from '../oss/object-store.js';
import { withRetry, type RetryPolicy } from '../util/retry.js';
import type { ListedObject } from './action.js';

/** The most keys one ListObjects page returns. */
export const LIST_PAGE_SIZE = 1000;

interface ListPage {
  objects?: Array<{ name: string; size: number | string; etag?: string; lastModified?: string }> | null;
  nextMarker?: string | null;
  isTruncated?: boolean | string;
}

/**
 * Every object whose key starts with `prefix`, in listing order (keys ending in `/` included: OSS's "folders"
 * are objects too).
 * @param store the object store (its default bucket)
 * @param prefix the key prefix ('' for the whole bucket)
 * @param options `retry` policy, `signal`, and `pageSize` (1..1000)
 * @returns an async iterable of listed objects
 * @example
 *   for await (const object of listPrefix(ctx.store, 'logs/', { retry: ctx.retry })) console.log(object.key);
 */
export async function* listPrefix(
  store: ObjectStore,
  prefix: string,
  options: { retry?: RetryPolicy; signal?: AbortSignal; pageSize?: number } = {},
): AsyncGenerator<ListedObject> {
  let marker: string | undefined;
  for (;;) {
    const query: Record<string, unknown> = { prefix, 'max-keys': options.pageSize ?? LIST_PAGE_SIZE };
    if (marker !== undefined) query.marker = marker;
    const page = (await withRetry(() => store.listObjects(query, {}), options.retry, { signal: options.signal })) as unknown as ListPage;
    const objects = page.objects ?? [];
    for (const o of objects) yield { key: o.name, size: Number(o.size), etag: o.etag, lastModified: o.lastModified };
    const truncated = page.isTruncated === true || page.isTruncated === 'true';
    if (!truncated || objects.length === 0) return;
    // OSS gives NextMarker when truncated; the last key of the page is the same marker if a client drops it.
    marker = page.nextMarker ?? objects[objects.length - 1].name;
  }
}
