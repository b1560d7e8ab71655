/**
 * MD5 (RFC 1321) in plain TypeScript, incremental: for the runtimes without node:crypto (browsers, Workers,
 * Deno, Bun through the web entry), where Web Crypto offers no MD5. The library needs it only to record and
 * verify `unencrypted-content-md5` (docs/FORMAT.md §2), an integrity check, never for security.
 *
 * Deliberately not here: any other hash. Node callers keep node:crypto's (faster) MD5.
 * @module
 */

/** Per-round left-rotation amounts (RFC 1321 §3.4). */
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
/** K[i] = floor(abs(sin(i + 1)) * 2^32). */
const K = Uint32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

/**
 * An incremental MD5.
 * @example
 *   const h = new Md5();
 *   h.update(new TextEncoder().encode('abc'));
 *   h.digest(); // 90 01 50 98 3c d2 4f b0 d6 96 3f 7d 28 e1 7f 72
 */
export class Md5 {
  #a = 0x67452301;
  #b = 0xefcdab89;
  #c = 0x98badcfe;
  #d = 0x10325476;
  readonly #block = new Uint8Array(64);
  readonly #words = new Uint32Array(16);
  #filled = 0;
  #length = 0;
  #done = false;

  /** Adds bytes. @throws {TypeError} after digest() */
  update(bytes: Uint8Array): this {
    if (this.#done) throw new TypeError('this MD5 was already digested');
    this.#length += bytes.length;
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(64 - this.#filled, bytes.length - at);
      this.#block.set(bytes.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled === 64) {
        this.#compress();
        this.#filled = 0;
      }
    }
    return this;
  }

  /** The 16-byte digest; the hash cannot be updated afterwards. */
  digest(): Uint8Array {
    if (this.#done) throw new TypeError('this MD5 was already digested');
    const bits = this.#length * 8;
    const pad = new Uint8Array((this.#filled < 56 ? 56 : 120) - this.#filled + 8);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, bits >>> 0, true);
    view.setUint32(pad.length - 4, Math.floor(bits / 2 ** 32), true);
    this.update(pad);
    this.#done = true;
    const out = new Uint8Array(16);
    const outView = new DataView(out.buffer);
    [this.#a, this.#b, this.#c, this.#d].forEach((v, i) => outView.setUint32(i * 4, v, true));
    return out;
  }

  #compress(): void {
    const w = this.#words;
    const block = this.#block;
    for (let i = 0; i < 16; i++) w[i] = block[i * 4] | (block[i * 4 + 1] << 8) | (block[i * 4 + 2] << 16) | (block[i * 4 + 3] << 24);
    let a = this.#a;
    let b = this.#b;
    let c = this.#c;
    let d = this.#d;
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + K[i] + w[g]) | 0;
      const s = SHIFTS[(i >> 4) * 4 + (i & 3)];
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    this.#a = (this.#a + a) | 0;
    this.#b = (this.#b + b) | 0;
    this.#c = (this.#c + c) | 0;
    this.#d = (this.#d + d) | 0;
  }
}

/**
 * The MD5 of `bytes`.
 * @example
 *   md5(new Uint8Array(0)); // d4 1d 8c d9 8f 00 b2 04 e9 80 09 98 ec f8 42 7e
 */
export function md5(bytes: Uint8Array): Uint8Array {
  return new Md5().update(bytes).digest();
}
