/**
 * Several master keys at once: which one writes new objects, and which one reads a given object
 * (docs/FORMAT.md §2.3, §1).
 *
 * An object's matdesc picks the material whose matdesc is equal as a parsed map; an object without matdesc
 * uses the default material (then, if the default is of another kind, the materials configured with `{}`). When nothing configured matches, an optional async resolver is asked (e.g. to
 * fetch a key pair from a vault by the matdesc's `owner`). No match is a `KEY_NO_MATCH` error that names the
 * object's matdesc and every configured one: keys are never tried blindly, so a wrong configuration fails
 * loudly instead of decrypting with whatever happens to work.
 *
 * Unwrapping costs an RSA private operation or KMS calls, so callers unwrap once per operation and reuse the
 * returned ContentKey for every part and every range of that object (the client does).
 * @module
 */
import { IV_BYTES, KEY_BYTES } from '../cipher/sizes.js';
import { contentKeyProblem } from '../envelope/checks.js';
import { canonicalMatdesc, matdescEquals } from '../envelope/codec.js';
import { KeyInvalidError, KeyUnwrapError, KeyWrapError } from '../errors.js';
import { describe } from '../util/describe.js';
import { generateContentKey } from './random.js';
import { refuseWeakWrapMaterial } from './rsa-public-check.js';
import type { ContentKey, KeyWrapper, Matdesc, WrappedContentKey } from './types.js';

/**
 * Finds a material for an object whose matdesc matches no configured one. Return `undefined` when you have none.
 * @param matdesc the object's matdesc (`{}` when it has none)
 * @param wrapped the object's wrapped key (its wrap algorithm tells RSA from KMS)
 * @example
 *   const resolve: KeyResolver = async (matdesc) => {
 *     const pem = await vault.privateKeyFor(matdesc.owner);
 *     return pem === undefined ? undefined : rsaKeyWrapper({ privateKey: pem, matdesc });
 *   };
 *   const keyring = new KeyRing({ default: current, resolve });
 */
export type KeyResolver = (
  matdesc: Matdesc,
  wrapped: WrappedContentKey,
) => KeyWrapper | undefined | Promise<KeyWrapper | undefined>;

/**
 * Options of {@link KeyRing}. At least one is required.
 * @example
 *   const options: KeyRingOptions = { default: kmsKeyWrapper({ keyId, region, accessKeyId, accessKeySecret }) };
 *   const readOnly: KeyRingOptions = { materials: [rsaKeyWrapper({ privateKey: pem, matdesc: { team: 'a' } })] };
 */
export interface KeyRingOptions {
  /**
   * The material that wraps every new object (its matdesc is written with them) and reads objects that carry
   * no matdesc. Without it the keyring can only read.
   */
  default?: KeyWrapper;
  /** More materials for reading, each selected by its matdesc (compared as a parsed map). */
  materials?: readonly KeyWrapper[];
  /** Asked when no configured material's matdesc equals the object's. */
  resolve?: KeyResolver;
}

/**
 * A new content key and its wrapped form, as {@link KeyRing.createContentKey} returns them.
 * @example
 *   const { content, wrapped }: NewContentKey = await keyring.createContentKey();
 *   const headers = encodeEnvelope({ format: 'v2', cekAlg: CEK_ALG.ctr, wrapped });
 *   const body = aesCtrXor(content.key, content.iv, plaintext);
 */
export interface NewContentKey {
  /** The plain key and IV: use them for the body, never store them. */
  readonly content: ContentKey;
  /** What goes into the object's metadata (through encodeEnvelope). */
  readonly wrapped: WrappedContentKey;
}

/**
 * The master keys of a client: one default material for writing, any number for reading.
 * @example
 *   const keyring = new KeyRing({
 *     default: rsaKeyWrapper({ privateKey: currentPem, matdesc: { key: '2024' } }),
 *     materials: [rsaKeyWrapper({ privateKey: oldPem, matdesc: { key: '2019' } })],
 *   });
 *   const { content, wrapped } = await keyring.createContentKey();
 *   const same = await keyring.unwrap(wrapped);
 */
export class KeyRing {
  readonly #default: KeyWrapper | undefined;
  readonly #materials: readonly KeyWrapper[];
  readonly #resolve: KeyResolver | undefined;

  /**
   * @throws {TypeError} when no option is given, or a material is not a KeyWrapper
   */
  constructor(options: KeyRingOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`"options" expected an object, got ${options === null ? 'null' : typeof options}`);
    }
    const { default: def, materials = [], resolve } = options;
    if (def !== undefined) checkWrapper('default', def);
    if (!Array.isArray(materials)) throw new TypeError(`"materials" expected an array of KeyWrapper, got ${typeof materials}`);
    materials.forEach((m, i) => checkWrapper(`materials[${i}]`, m));
    if (resolve !== undefined && typeof resolve !== 'function') {
      throw new TypeError(`"resolve" expected a function, got ${typeof resolve}`);
    }
    if (def === undefined && materials.length === 0 && resolve === undefined) {
      throw new TypeError('a KeyRing needs a "default" material, "materials" or a "resolve" function');
    }
    this.#default = def;
    this.#materials = Object.freeze([...materials]);
    this.#resolve = resolve;
  }

  /** The material that wraps new objects, if any. */
  get defaultMaterial(): KeyWrapper | undefined {
    return this.#default;
  }

  /**
   * A fresh random content key for a new object (or multipart upload), wrapped by the default material:
   * 32 random key bytes, a 16-byte random IV with bytes 8..11 zero (docs/FORMAT.md §1).
   * @throws {KeyWrapError} `KEY_INVALID` when there is no default material or it cannot wrap; whatever the
   *   material's `wrap()` throws (e.g. `KmsError`)
   * @example
   *   const { content, wrapped } = await keyring.createContentKey();
   *   const headers = encodeEnvelope({ format: 'v2', cekAlg: CEK_ALG.ctr, wrapped });
   *   const body = aesCtrXor(content.key, content.iv, plaintext);
   */
  async createContentKey(): Promise<NewContentKey> {
    const material = this.#default;
    if (material === undefined) {
      throw new KeyInvalidError('KEY_INVALID', 'this KeyRing has no "default" material, so it cannot encrypt new objects (it can only read)');
    }
    if (!material.canWrap) {
      throw new KeyInvalidError(
        'KEY_INVALID',
        `the default material (${material.wrapAlg}, matdesc ${canonicalMatdesc(material.matdesc)}) cannot wrap new keys: it lacks its public key or key id`,
      );
    }
    refuseWeakWrapMaterial(material);
    const content = generateContentKey();
    const wrapped = await material.wrap(content);
    return { content, wrapped };
  }

  /**
   * Unwraps an object's content key with the material its matdesc selects (the default one when it has no
   * matdesc), else the one the resolver returns. Unwrap once per object operation and reuse the result for
   * every part and range. The result is a copy that the caller owns and may zero when done; the material's own
   * arrays are never handed out.
   * @throws {KeyUnwrapError} `KEY_NO_MATCH` when no material matches, or the matching one is of another kind
   *   (e.g. RSA material for a KMS object); `KEY_UNWRAP_FAILED` when the material fails or returns a key that is
   *   not 32 bytes or an IV that is not 16 bytes; whatever the material throws (e.g. `KmsError`)
   * @example
   *   const env = decodeEnvelope(res.headers);
   *   const { key, iv } = await keyring.unwrap(env!.wrapped);
   *   const plain = aesCtrXor(key, iv, body);
   */
  async unwrap(wrapped: WrappedContentKey): Promise<ContentKey> {
    if (wrapped === null || typeof wrapped !== 'object' || wrapped.matdesc === null || typeof wrapped.matdesc !== 'object') {
      throw new TypeError(`"wrapped" expected a WrappedContentKey with a matdesc object, got ${wrapped === null ? 'null' : typeof wrapped}`);
    }
    const matdesc = wrapped.matdesc;
    const candidates = this.#select(matdesc);
    if (candidates.length === 0 && this.#resolve !== undefined) {
      const resolved = await this.#resolve(matdesc, wrapped);
      if (resolved !== undefined) {
        checkWrapper('resolve() result', resolved);
        candidates.push(resolved);
      }
    }
    if (candidates.length === 0) {
      throw new KeyUnwrapError(
        'KEY_NO_MATCH',
        `no key material for this object: its matdesc is ${canonicalMatdesc(matdesc)} (wrap-alg ${wrapped.wrapAlg}); ` +
          `configured: ${this.#listConfigured()}${this.#resolve ? '; the resolver returned none' : ''}`,
      );
    }
    // Several materials may share a matdesc (e.g. an RSA pair and a KMS key); "not mine" (null) moves on to the
    // next one of the same matdesc. A material that is the right kind but fails stops here.
    for (const material of candidates) {
      const content = await material.unwrap(wrapped);
      if (content !== null) return checkContent(content, material);
    }
    throw new KeyUnwrapError(
      'KEY_NO_MATCH',
      `the key material selected by matdesc ${canonicalMatdesc(matdesc)} cannot read this object: it is wrapped with ` +
        `${wrapped.wrapAlg}, but the matching material${candidates.length > 1 ? 's are' : ' is'} ${candidates.map((c) => c.wrapAlg).join(', ')}`,
    );
  }

  #select(matdesc: Matdesc): KeyWrapper[] {
    const all = this.#default === undefined ? this.#materials : [this.#default, ...this.#materials];
    const equal = all.filter((m) => matdescEquals(m.matdesc, matdesc));
    // An object without matdesc belongs to the default material first, whatever that material's own matdesc is;
    // when the default says "not mine" (another kind), the materials configured for exactly `{}` come next.
    if (Object.keys(matdesc).length === 0 && this.#default !== undefined) {
      return [this.#default, ...equal.filter((m) => m !== this.#default)];
    }
    return equal;
  }

  #listConfigured(): string {
    const parts: string[] = [];
    if (this.#default !== undefined) parts.push(`default ${canonicalMatdesc(this.#default.matdesc)} (${this.#default.wrapAlg})`);
    for (const m of this.#materials) parts.push(`${canonicalMatdesc(m.matdesc)} (${m.wrapAlg})`);
    return parts.length === 0 ? 'none' : parts.join(', ');
  }
}

function checkWrapper(name: string, value: unknown): asserts value is KeyWrapper {
  const w = value as KeyWrapper | null;
  if (
    w === null ||
    typeof w !== 'object' ||
    typeof w.wrap !== 'function' ||
    typeof w.unwrap !== 'function' ||
    typeof w.wrapAlg !== 'string' ||
    w.matdesc === null ||
    typeof w.matdesc !== 'object'
  ) {
    throw new TypeError(`"${name}" expected a KeyWrapper (wrapAlg, matdesc, wrap(), unwrap()), got ${describe(value)}`);
  }
}

/** Whatever a material returns, the body cipher needs exactly a 32-byte key and a 16-byte IV. */
function checkContent(content: ContentKey, material: KeyWrapper): ContentKey {
  const found = contentKeyProblem(content);
  const problem =
    found === undefined ? undefined
    : found.length !== undefined ? `a ${found.length}-byte ${found.field === 'key' ? 'key' : 'IV'} (expected ${found.expected})`
    : found.field === 'iv' ? 'no IV bytes'
    : 'no key bytes';
  if (problem !== undefined) {
    throw new KeyUnwrapError(
      'KEY_UNWRAP_FAILED',
      `the ${material.wrapAlg} material (matdesc ${canonicalMatdesc(material.matdesc)}) unwrapped ${problem}; AES-256-CTR needs a ${KEY_BYTES}-byte key and a ${IV_BYTES}-byte IV`,
    );
  }
  // Copies the caller owns: the client zeroes them after each operation, and a material that caches its keys
  // (a vault client) must not find its cache zeroed, which would decrypt the next read to garbage, silently.
  return { key: Uint8Array.from(content.key), iv: Uint8Array.from(content.iv) };
}
