/**
 * A TypeScript caller of `CryptoClient` the way ali-oss users write code, compiled (never run) by
 * test/typecheck.test.ts under `strict`: a misspelt option or a wrong option type must not compile (each
 * `@ts-expect-error` below fails the check if the line compiles), results are typed (no `any` leaks into the
 * caller: `noImplicitAny` and the assignments below prove it), and a `CryptoClient` can stand where code expects
 * the ali-oss methods it implements.
 * @module
 */
import type OSS from 'ali-oss';
import type { CryptoClient } from '../../bindings/index.js';

declare const client: CryptoClient;
declare const bytes: Buffer;

export async function misspelt(): Promise<void> {
  // @ts-expect-error `headres` is not an option of put
  await client.put('a.bin', bytes, { headres: { 'Cache-Control': 'no-cache' } });
  // @ts-expect-error `parallel` is a number
  await client.multipartUpload('a.bin', '/data/a.bin', { parallel: 'x' });
  // @ts-expect-error `partsize` is not an option of multipartUpload (it is `partSize`)
  await client.multipartUpload('a.bin', '/data/a.bin', { partsize: 1 << 20 });
  // @ts-expect-error `hedaers` is not an option of get
  await client.get('a.bin', { hedaers: { Range: 'bytes=0-9' } });
  // @ts-expect-error `rewrite` is a boolean
  await client.putMeta('a.bin', { owner: 'me' }, { rewrite: 'yes' });
  // @ts-expect-error `contentMd5` is a boolean or a string
  await client.put('a.bin', bytes, { contentMd5: 1 });
  // @ts-expect-error `dataSize` is required by initMultipartUpload
  await client.initMultipartUpload('a.bin', { partSize: 1 << 20 });
  // @ts-expect-error `quiet` is a boolean
  await client.deleteMulti(['a.bin'], { quiet: 'true' });
}

export async function typedResults(): Promise<void> {
  const put: { name: string; url: string; res: { status: number } } = await client.put('a.bin', bytes, { meta: { owner: 'me' }, timeout: 60_000 });
  const etag: string | undefined = (await client.copy('b.bin', 'a.bin', { meta: { owner: 'you' } })).data?.etag;
  const names: string[] = (await client.list({ prefix: 'a' })).objects.map((o) => o.name);
  const uploads: string[] = (await client.listUploads({ prefix: 'a' })).uploads.map((u) => u.uploadId);
  const parts: string[] = (await client.listParts('a.bin', 'id')).parts.map((p) => p.ETag);
  const deleted: number = (await client.delete('a.bin')).res.status;
  // @ts-expect-error results are typed: a field ali-oss does not return is an error, not `any`
  const nope: string = (await client.delete('a.bin')).nope;
  void [put, etag, names, uploads, parts, deleted, nope];
}

/**
 * The ali-oss methods a `CryptoClient` stands in for, as @types/ali-oss declares them. Left out, on purpose: where
 * encryption changes the call (`uploadPart` takes plaintext and a context, `initMultipartUpload` needs `dataSize`,
 * `head` adds fields), and where @types/ali-oss declares what ali-oss does not return (`put`'s `data` without a
 * callback, `abortMultipartUpload` answering `{ res }`, `list`'s `nextMarker` null at the end, `copy`'s `data` after a
 * rewrite): our types say what is returned.
 */
type Implemented = 'get' | 'putStream' | 'delete' | 'uploadPartCopy' | 'multipartUploadCopy' | 'listUploads' | 'isCancel' | 'cancel' | 'signatureUrl' | 'asyncSignatureUrl';

export function standsInForAliOss(c: CryptoClient): Pick<OSS, Implemented> {
  return c;
}
