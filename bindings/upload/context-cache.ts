/**
 * The multipart crypto contexts callers hand in, validated once, and the content key of each, kept beside the
 * context object (never in it, so JSON of a context never holds a key): drawn by this process at Initiate, or
 * unwrapped once per key ring on the first part (docs/FORMAT.md §5, §7).
 *
 * Zeroing the keys of a finished upload is here too ({@link disposeMultipartCryptoContext}).
 *
 * Deliberately not here: sending anything (parts-api.ts, part-requests.ts).
 * @module
 */
import { CheckpointError } from '../errors.js';
import type { ContentKey } from '../keys/types.js';
import type { ClientContext, ClientKeyRing } from '../transfer/context.js';
import { describe } from '../util/describe.js';
import { createMultipartCryptoContext, serializeMultipartCryptoContext, wrappedKeyOf, type MultipartCryptoContext } from './checkpoint.js';

/**
 * The content key of a context: drawn by this process (initMultipartUpload) or unwrapped once per key ring and
 * cached beside the context object (never in it, so JSON of the context never holds it).
 * 
 */
export async function contentKeyOf(ctx: ClientContext, context: MultipartCryptoContext): Promise<ContentKey> {
  const entry = entryOf(context);
  let key = entry.keys.get(ctx.keyring);
  if (key === undefined) {
    key = ctx.keyring.unwrap(wrappedKeyOf(entry.context));
    entry.keys.set(ctx.keyring, key);
    // A failed unwrap (KMS down, wrong material) is not cached: the next part tries again.
    key.catch(() => entry.keys.delete(ctx.keyring));
  }
  return key;
}

/**
 * Validates a crypto context given by a caller (ours, one parsed by `parseMultipartCryptoContext`, or a plain
 * `JSON.parse` result). A frozen context is validated once; a mutable one on every call.
 * 
 */
export function contextOf(value: unknown): MultipartCryptoContext {
  return entryOf(value).context;
}

/**
 * Records the content key this process drew for `context`, so no unwrap is ever needed for it here.
 * @example
 *   rememberContentKey(context, ctx.keyring, content);
 */
export function rememberContentKey(context: MultipartCryptoContext, keyring: ClientKeyRing, content: ContentKey): void {
  entryOf(context).keys.set(keyring, Promise.resolve(content));
}

/**
 * Zeroes every content key this process holds for a crypto context (drawn by `initMultipartUpload` or unwrapped
 * by `uploadPart`) and forgets them; a later `uploadPart` with the same context unwraps again. Called by
 * `completeMultipartUpload` and `abortMultipartUpload` when they are given the context; call it yourself when a
 * worker is done with its parts. Best effort: JS gives no guarantee that no other copy exists.
 * @param context the upload's crypto context
 * @example
 *   for (const n of myParts) await uploadPart(ctx, name, uploadId, n, bytesOf(n), context);
 *   disposeMultipartCryptoContext(context);
 */
export function disposeMultipartCryptoContext(context: MultipartCryptoContext): void {
  const entry = contexts.get(context as object);
  if (entry === undefined) return;
  for (const key of entry.keys.values()) {
    key.then(
      (content) => {
        content.key.fill(0);
        content.iv.fill(0);
      },
      () => undefined,
    );
  }
  entry.keys.clear();
}

// ---------------------------------------------------------------------------------------------------------------

interface ContextEntry {
  readonly context: MultipartCryptoContext;
  /** JSON of the caller's object when it was validated, to notice later mutation of an unfrozen object. */
  readonly text: string;
  /**
   * One content key per key ring: a key unwrapped by one client is never handed to another. A Map, not a WeakMap,
   * so that {@link disposeMultipartCryptoContext} can reach every key to zero it.
   */
  readonly keys: Map<ClientKeyRing, Promise<ContentKey>>;
}

const contexts = new WeakMap<object, ContextEntry>();

function entryOf(value: unknown): ContextEntry {
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`"context" expected the multipart crypto context (from initMultipartUpload), got ${describe(value)}`);
  }
  const frozen = Object.isFrozen(value);
  const known = contexts.get(value);
  if (known !== undefined && frozen) return known;
  let text = '';
  if (!frozen) {
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new CheckpointError('CHECKPOINT_MALFORMED', 'the multipart crypto context cannot be turned into JSON', { cause: err });
    }
    if (known !== undefined && known.text === text) return known;
  }
  // serialize() validates strictly (unknown fields, plan rules) and never writes a field outside the schema.
  const context = createMultipartCryptoContext(JSON.parse(serializeMultipartCryptoContext(value as MultipartCryptoContext)));
  const entry: ContextEntry = { context, text, keys: new Map() };
  contexts.set(value, entry);
  return entry;
}
