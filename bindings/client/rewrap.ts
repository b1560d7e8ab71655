/**
 * `rewrap(name, { to })`: key rotation of one object. The object's content key is unwrapped with the current
 * materials (or `from`), the SAME key and IV are wrapped with the material `to`, and the object is written again
 * from its own ciphertext, unchanged byte for byte: no AES work, the same CRC-64, every user metadata and content
 * header kept, the key commitment recomputed when present (it covers the wrapped key). OSS refuses a CopyObject
 * that edits client-side-encryption metadata, so the bytes travel once through the client.
 *
 * Small objects (below the rewrite threshold) take one GET (its headers are the state read) and one PutObject of the
 * same bytes; larger ones go through upload/ciphertext-rewrite.ts (ranged GETs on the ETag, a multipart upload with
 * the object's own part size, bounded memory). Both HEAD the object again right before the write commits
 * (object-state.ts: OSS offers no conditional write), so a concurrent writer wins with `OBJECT_CHANGED`.
 *
 * Idempotence: an object already under `to` (same wrap-alg and matdesc, and either `to` unwraps it or the old
 * materials cannot) is skipped without a write.
 *
 * Deliberately not here: the bulk job (client/bulk-actions.ts), the ciphertext streaming (upload/ciphertext-rewrite.ts).
 * @module
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { canonicalMatdesc, decodeEnvelope, headersFromMeta, matdescEquals, metaFromEnvelope, type Envelope, type HeaderValue } from '../envelope/codec.js';
import { commitmentFromHeaders, computeCommitment, COMMITMENT_HEADER } from '../envelope/commitment.js';
import { ENVELOPE_HEADERS, metaKey } from '../envelope/headers.js';
import type { ContentKey, Matdesc, WrappedContentKey } from '../envelope/types.js';
import { IntegrityError, KeyUnwrapError, UnsupportedOperationError } from '../errors.js';
import { crc64, crc64ToDecimal, parseCrc64Decimal } from '../integrity/crc64.js';
import type { KeyWrapper } from '../keys/types.js';
import { CRC64_HEADER, headerOf } from '../oss/response.js';
import { unwrapCommitted } from '../transfer/commitment-policy.js';
import type { ClientContext } from '../transfer/context.js';
import { encryptionMetaOf } from '../transfer/metadata.js';
import { rewriteCiphertext } from '../upload/ciphertext-rewrite.js';
import { withRetry } from '../util/retry.js';
import { changed, checkUnchanged, isPreconditionFailed, objectState, type ObjectState } from './object-state.js';
import { REWRITE_MULTIPART_THRESHOLD } from './rewrite.js';

/**
 * Options of {@link rewrap}.
 * @example
 *   await client.rewrap('a.bin', { to: rsaKeyWrapper({ publicKey: newPem, matdesc: { key: '2025' } }) });
 */
export interface RewrapOptions {
  /** The material that wraps the content key from now on (needs `canWrap`). */
  to: KeyWrapper;
  /** The material that unwraps the current key; default: the client's key ring. */
  from?: KeyWrapper;
  /** Refuse (`OBJECT_CHANGED`) unless the object's ETag is this one when first read. */
  ifMatch?: string;
  /** Objects at least this large are rewritten by multipart upload (default: the client's `multipartThreshold`, at most 16 MiB). */
  multipartThreshold?: number;
  /** Told the id of a multipart rewrite before its first part (a job journals it, to abort it after a crash). */
  uploadStarted?: (uploadId: string) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * What one wrapping of a content key is labelled with.
 * @example
 *   const w: WrapDescription = { wrapAlg: 'KMS/ALICLOUD', matdesc: { key: '2025' } };
 */
export interface WrapDescription {
  readonly wrapAlg: string;
  readonly matdesc: Matdesc;
}

/**
 * What {@link rewrap} did.
 * @example
 *   const { changed, from, to } = await client.rewrap('a.bin', { to });
 */
export interface RewrapResult {
  readonly name: string;
  /** False when the object was already under `to` (nothing written). */
  readonly changed: boolean;
  /** The ETag of the object now stored. */
  readonly etag: string;
  readonly previousEtag: string;
  readonly bytes: number;
  readonly multipart: boolean;
  readonly from: WrapDescription;
  readonly to: WrapDescription;
}

/**
 * Wraps an object's content key with `options.to`, rewriting the object from its unchanged ciphertext.
 * @param ctx the client context
 * @param name the object key
 * @param options `to`, `from`, `ifMatch`, threshold, `signal`
 * @throws {UnsupportedOperationError} OBJECT_NOT_ENCRYPTED for a plaintext object; OPERATION_UNSUPPORTED for a V1 one
 * @throws {IntegrityError} OBJECT_CHANGED when another writer replaced it since it was read (nothing written);
 *   INTEGRITY_CRC64 when the new object's CRC-64 is not the old one's
 * @throws {KeyUnwrapError} KEY_NO_MATCH / KEY_UNWRAP_FAILED when the current materials cannot unwrap it
 * @example
 *   const r = await rewrap(ctx, 'a.bin', { to: kmsKeyWrapper({ keyId, region, accessKeyId, accessKeySecret }) });
 */
export async function rewrap(ctx: ClientContext, name: string, options: RewrapOptions): Promise<RewrapResult> {
  const { to, signal } = options;
  if (!to.canWrap) throw new TypeError('"to" must be a material that can wrap (an RSA public key, a KMS key id)');
  const ifMatch = options.ifMatch === undefined ? {} : { 'If-Match': options.ifMatch };
  const opened = await withRetry(() => ctx.store.openObject(name, { headers: ifMatch }), ctx.retry, { signal }).catch((err) => {
    throw isPreconditionFailed(err) ? changed(name, `its ETag is not the expected ${options.ifMatch}`, err) : err;
  });
  let state: ObjectState;
  let env: Envelope;
  const threshold = options.multipartThreshold ?? Math.min(ctx.multipartThreshold, REWRITE_MULTIPART_THRESHOLD);
  let small: SmallBody | undefined;
  // One unwrap of the old wrapping per rewrap, whether the already-under-`to` check or the rewrite asks first.
  let oldKey: Promise<ContentKey> | undefined;
  const unwrapOld = (): Promise<ContentKey> =>
    (oldKey ??= options.from === undefined ? ctx.keyring.unwrap(env.wrapped) : unwrapWith(options.from, env.wrapped));
  const wipeOld = () => oldKey?.then(wipe, () => undefined);
  const target: WrapDescription = { wrapAlg: to.wrapAlg, matdesc: to.matdesc };
  const unchanged = (st: ObjectState, e: Envelope) =>
    ({ name, changed: false, etag: st.etag, previousEtag: st.etag, bytes: 0, multipart: false, from: describeWrap(e.wrapped), to: target }) as const;
  // The ali-oss store answers a Node Readable, the fetch store a WHATWG stream: read both the same way.
  const body: Readable = opened.body instanceof Readable ? opened.body : Readable.fromWeb(opened.body as never);
  try {
    state = objectState(name, opened.headers as Record<string, HeaderValue>);
    const decoded = decodeEnvelope(state.headers);
    if (decoded === null) throw new UnsupportedOperationError('OBJECT_NOT_ENCRYPTED', `${JSON.stringify(name)} is not encrypted; there is no key to rewrap`);
    if (decoded.format !== 'v2') throw new UnsupportedOperationError('OPERATION_UNSUPPORTED', `${JSON.stringify(name)} has a V1 envelope; only V2 objects can be rewrapped`);
    env = decoded;
    // An object already under `to` is skipped before its body is read (a rerun of a job meets many of them).
    const labelled = env.wrapped.wrapAlg === to.wrapAlg && matdescEquals(env.wrapped.matdesc, to.matdesc);
    if (labelled && (await underTarget(to, env.wrapped, unwrapOld))) {
      await wipeOld();
      return unchanged(state, env);
    }
    if (state.size < threshold) small = await readAll(body, state);
  } catch (err) {
    await wipeOld();
    throw err;
  } finally {
    body.destroy();
  }
  const unchangedResult = unchanged(state, env);
  const content = await unwrapCommitted(ctx.commitment, name, state.headers, env, unwrapOld).catch(async (err) => {
    await wipeOld();
    throw err;
  });
  try {
    const wrapped = await to.wrap(content);
    // Only the key fields change; every other stored envelope field goes back exactly as stored.
    const fresh = metaFromEnvelope({ format: 'v2', cekAlg: env.cekAlg, wrapped });
    const replaced: Record<string, string | undefined> = {};
    for (const field of ['key', 'start', 'wrapAlg', 'matdesc'] as const) replaced[metaKey(ENVELOPE_HEADERS.v2[field])] = fresh[metaKey(ENVELOPE_HEADERS.v2[field])];
    try {
      if (small !== undefined) {
        const etag = await putSmall(ctx, state, small, replaced, content, signal);
        return { ...unchangedResult, changed: true, etag, bytes: state.size, to: describeWrap(wrapped) };
      }
      const partSize = env.partSize !== undefined && Math.ceil(state.size / env.partSize) <= 10_000 ? env.partSize : undefined;
      const result = await rewriteCiphertext(ctx, name, {
        source: name,
        meta: state.userMeta,
        // rewriteCiphertext keeps the content headers itself; only the storage class is not among them.
        headers: storageClassOf(state),
        envelope: replaced,
        expectEtag: state.etag,
        partSize,
        unwrap: async () => ({ key: content.key.slice(), iv: content.iv.slice() }),
        uploadStarted: options.uploadStarted,
        beforeComplete: () => checkUnchanged(ctx, state, signal),
        signal,
      });
      const crc = headerOf(result.res.headers, CRC64_HEADER);
      if (state.crc64 !== undefined && crc !== undefined && parseCrc64Decimal(crc) !== state.crc64) {
        throw new IntegrityError('INTEGRITY_CRC64', `rewrap of ${JSON.stringify(name)}: the new object's CRC-64 is ${crc}, the old one's ${crc64ToDecimal(state.crc64)}`);
      }
      return { ...unchangedResult, changed: true, etag: String(result.etag ?? headerOf(result.res.headers, 'etag')), bytes: state.size, multipart: true, to: describeWrap(wrapped) };
    } catch (err) {
      if (isPreconditionFailed(err)) throw changed(name, 'a read with If-Match on its ETag answered 412', err);
      throw err;
    }
  } finally {
    wipe(content);
    await wipeOld();
  }
}

/** Best effort: JS gives no guarantee that no other copy exists. */
function wipe(content: ContentKey): void {
  content.key.fill(0);
  content.iv.fill(0);
}

/** One PutObject of the unchanged ciphertext with the new key fields, after the re-HEAD. */
async function putSmall(
  ctx: ClientContext,
  state: ObjectState,
  read: SmallBody,
  replaced: Record<string, string | undefined>,
  content: ContentKey,
  signal: AbortSignal | undefined,
): Promise<string> {
  const envelope: Record<string, string> = { ...encryptionMetaOf(state.headers as Record<string, unknown>) };
  for (const [field, value] of Object.entries(replaced)) {
    if (value === undefined) delete envelope[field];
    else envelope[field] = value;
  }
  const commitmentName = metaKey(COMMITMENT_HEADER);
  delete envelope[commitmentName];
  if (commitmentFromHeaders(state.headers) !== undefined || ctx.commitment === 'write' || ctx.commitment === 'require') {
    const next = decodeEnvelope(headersFromMeta(envelope));
    if (next === null) throw new UnsupportedOperationError('OPERATION_UNSUPPORTED', `rewrap: the new envelope of ${JSON.stringify(state.name)} does not decode`);
    envelope[commitmentName] = await computeCommitment(content, next);
  }
  await checkUnchanged(ctx, state, signal);
  const result = await withRetry(() => ctx.store.putObject(state.name, read.bytes, { meta: { ...state.userMeta, ...envelope }, headers: { ...state.contentHeaders, 'Content-MD5': read.md5.toString('base64') } }), ctx.retry, { signal });
  const crc = headerOf(result.res.headers, CRC64_HEADER);
  if (crc !== undefined && read.crc !== undefined && parseCrc64Decimal(crc) !== read.crc) {
    throw new IntegrityError('INTEGRITY_CRC64', `rewrap of ${JSON.stringify(state.name)}: OSS stored CRC-64 ${crc}, not the old object's ${crc64ToDecimal(read.crc)}`);
  }
  return String(headerOf(result.res.headers, 'etag'));
}

/** A small object's bytes, checked, with the MD5 that its PutObject sends as Content-MD5. */
interface SmallBody {
  readonly bytes: Buffer;
  readonly md5: Buffer;
  /** The CRC-64 the new object must have (OSS's for the old one, else ours; none when the ETag vouched and OSS gave none). */
  readonly crc?: bigint;
}

/**
 * The whole body of a small object, checked before anything is written (a body damaged on the way in must never be
 * stored): its length, then its MD5 against the ETag when that is one (a PutObject's ETag is the MD5 of the stored
 * bytes), and only otherwise (multipart or appendable objects) its CRC-64 against OSS's. The MD5 goes out as the
 * PutObject's Content-MD5, so OSS also refuses bytes damaged on the way out; ali-oss would hash them anyway, so the
 * ETag check costs nothing, and a CRC-64 pass over the bytes is saved.
 */
async function readAll(body: AsyncIterable<Buffer>, state: ObjectState): Promise<SmallBody> {
  const chunks: Buffer[] = [];
  const hash = createHash('md5');
  for await (const chunk of body) {
    chunks.push(chunk);
    hash.update(chunk);
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== state.size) throw new IntegrityError('INTEGRITY_LENGTH', `${JSON.stringify(state.name)} gave ${bytes.length} bytes; it announced ${state.size}`);
  const md5 = hash.digest();
  if (unquote(state.etag).toLowerCase() === md5.toString('hex')) return { bytes, md5, crc: state.crc64 };
  const crc = crc64(bytes);
  if (state.crc64 !== undefined && crc !== state.crc64) {
    throw new IntegrityError('INTEGRITY_CRC64', `the bytes read of ${JSON.stringify(state.name)} have CRC-64 ${crc64ToDecimal(crc)}; OSS recorded ${crc64ToDecimal(state.crc64)}`);
  }
  return { bytes, md5, crc };
}

function unquote(etag: string): string {
  return etag.replace(/^(W\/)?"|"$/g, '');
}

/**
 * Whether an object labelled like `to` is already under it: `to` unwraps it when it can (a private key, KMS
 * credentials checking the key id); a public-only `to` cannot tell, so the object counts as done when the old
 * materials cannot unwrap it. `unwrapOld` is the caller's (its key is reused for the rewrite and wiped there).
 */
async function underTarget(to: KeyWrapper, wrapped: WrappedContentKey, unwrapOld: () => Promise<ContentKey>): Promise<boolean> {
  if (to.canUnwrap) {
    const mine = await to.unwrap(wrapped).catch(() => null);
    if (mine !== null) wipe(mine);
    return mine !== null;
  }
  const old = await unwrapOld().catch((err) => {
    if (err instanceof KeyUnwrapError) return null;
    throw err;
  });
  return old === null;
}

async function unwrapWith(material: KeyWrapper, wrapped: WrappedContentKey): Promise<ContentKey> {
  const content = await material.unwrap(wrapped);
  if (content === null) {
    throw new KeyUnwrapError('KEY_NO_MATCH', `the "from" material (${material.wrapAlg}) cannot read this object: it is wrapped with ${wrapped.wrapAlg}, matdesc ${canonicalMatdesc(wrapped.matdesc)}`);
  }
  return content;
}

function storageClassOf(state: ObjectState): Record<string, string> | undefined {
  const value = state.contentHeaders['x-oss-storage-class'];
  return value === undefined ? undefined : { 'x-oss-storage-class': value };
}

function describeWrap(wrapped: WrappedContentKey): WrapDescription {
  return { wrapAlg: wrapped.wrapAlg, matdesc: { ...wrapped.matdesc } };
}
