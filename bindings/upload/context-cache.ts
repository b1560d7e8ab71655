/**
 * The multipart crypto contexts callers hand in, validated once, and the content key of each, kept beside the
 * context object (never in it, so JSON of a context never holds a key): drawn by this process at Initiate, or
 * unwrapped once per key ring on the first part (docs/FORMAT.md §5, §7).
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

// ---------------------------------------------------------------------------------------------------------------

interface ContextEntry {
  readonly context: MultipartCryptoContext;
  /** JSON of the caller's object when it was validated, to notice later mutation of an unfrozen object. */
  readonly text: string;
  /** One content key per key ring: a key unwrapped by one client is never handed to another. */
  readonly keys: WeakMap<ClientKeyRing, Promise<ContentKey>>;
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
  const entry: ContextEntry = { context, text, keys: new WeakMap() };
  contexts.set(value, entry);
  return entry;
}
