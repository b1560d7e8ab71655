/**
 * CRC-64/XZ, the checksum OSS reports in `x-oss-hash-crc64ecma` (docs/FORMAT.md §6).
 *
 * Parameters: the ECMA-182 polynomial 0x42F0E1EBA9EA3693, reflected input and output (so the table uses the
 * bit-reversed polynomial 0xC96C5795D7870F42), initial value and final XOR all ones. The check value of the
 * ASCII text `123456789` is 0x995DC9BBDF1939FA. OSS computes it over the **stored** bytes, which for an
 * encrypted object are the ciphertext: it detects transport damage, not tampering.
 *
 * Speed: inputs of {@link CRC64_WASM_MIN_BYTES} or more go to the WebAssembly core's slicing-by-16 over 64-bit
 * tables (bindings/integrity/crc64-wasm.ts drives assembly/crc64.ts; 1.3-4x faster than JavaScript); shorter ones, and every input where the core
 * cannot be instantiated synchronously (a browser's main thread before `initWasm()`), use the JavaScript
 * slicing-by-8 here, over tables of 64-bit entries kept as two `Uint32Array` halves, so the hot loop is plain
 * 32-bit integer arithmetic (no `bigint` per byte). Both give the same bits (test/crc64.test.ts compares them).
 * The tables are data-dependent lookups; that is fine because CRC input is stored bytes (ciphertext for an
 * encrypted object), never secret. `bigint` appears only at the API boundary.
 *
 * Combining (`crc64Combine`) uses GF(2) polynomial arithmetic in the way of zlib's `crc32_combine`: the CRC
 * of A‖B is CRC(A) multiplied by x^(8·len(B)) modulo the polynomial, XOR CRC(B). zlib computes that factor
 * with its gf2 operator matrices (before 1.2.12) or with the equivalent, cheaper table of x^(2^k) powers
 * (since); this file uses the latter: O(log len) polynomial products instead of O(64·log len) matrix squares.
 *
 * Deliberately not here: any I/O, and `node:` imports (this runs in browsers too).
 * @module
 */
import { IntegrityError } from '../errors.js';
import { describeValue } from '../util/describe.js';
import { wasmCrc64Update } from './crc64-wasm.js';

/** CRC-64/XZ of the ASCII text `123456789`, the catalogue's check value. */
export const CRC64_CHECK = 0x995dc9bbdf1939fan;

/** The ECMA-182 polynomial, reflected (bit-reversed), as CRC-64/XZ processes bits least-significant first. */
export const CRC64_POLY_REFLECTED = 0xc96c5795d7870f42n;

/**
 * Inputs at least this long are checksummed by the WebAssembly core; below it the call and copy cost more than
 * the JavaScript loop (measured with bench/crc64.bench.ts).
 */
export const CRC64_WASM_MIN_BYTES = 1024;

const MASK64 = 0xffffffffffffffffn;
const POLY_LO = 0xd7870f42;
const POLY_HI = 0xc96c5795;
const SLICES = 8;

// TABLE_LO/HI[k * 256 + n]: the CRC register after feeding byte n followed by k zero bytes (slicing-by-8).
const TABLE_LO = new Uint32Array(SLICES * 256);
const TABLE_HI = new Uint32Array(SLICES * 256);
buildTables();

/**
 * CRC-64/XZ of `data`, continuing from `previous`: the finished CRC of the bytes that came before (default:
 * none). `crc64(b, crc64(a))` equals the CRC of `a` followed by `b`, as zlib's `crc32(crc, buf)` does.
 * @param data the bytes to checksum
 * @param previous the CRC of all earlier bytes (a bigint in [0, 2^64)); 0n for none
 * @returns the CRC as an unsigned 64-bit `bigint`
 * @throws {TypeError} `"data" expected a Uint8Array, got string`
 * @throws {RangeError} `"previous" expected a bigint in [0, 2^64), got -1`
 * @example
 *   crc64(new TextEncoder().encode('123456789')) === 0x995dc9bbdf1939fan; // true
 *   let crc = 0n;
 *   for (const chunk of chunks) crc = crc64(chunk, crc);
 *   crc64ToDecimal(crc); // compare with the x-oss-hash-crc64ecma header
 */
export function crc64(data: Uint8Array, previous: bigint = 0n): bigint {
  checkBytes('data', data);
  checkCrc('previous', previous);
  // The register holds the complement of the finished CRC (init and xorout are both all ones).
  const state = ~previous & MASK64;
  const [lo, hi] = update(Number(state & 0xffffffffn), Number(state >> 32n), data);
  return ~join(lo, hi) & MASK64;
}

/**
 * An incremental CRC-64/XZ: feed chunks with `update`, read the CRC with `digest` (any number of times).
 * Also counts the bytes seen, which is what {@link crc64Combine} needs for the part on the right.
 * @example
 *   const c = new Crc64();
 *   c.update(part1).update(part2);
 *   c.digest();     // bigint
 *   c.toString();   // decimal text, as in x-oss-hash-crc64ecma
 *   c.length;       // bytes seen
 */
export class Crc64 {
  // The register, complemented, as two 32-bit halves: no bigint in the per-chunk path.
  #lo = 0xffffffff;
  #hi = 0xffffffff;
  #length = 0;

  /**
   * Starts from `previous` (the CRC of earlier bytes; default none).
   * @param previous CRC of the bytes before the first `update`, a bigint in [0, 2^64)
   * @param previousLength how many bytes `previous` covers, so that `length` keeps counting (default 0)
   * @throws {RangeError} when `previous` is out of range or `previousLength` is not a non-negative safe integer
   */
  constructor(previous: bigint = 0n, previousLength = 0) {
    checkCrc('previous', previous);
    checkLength('previousLength', previousLength);
    const state = ~previous & MASK64;
    this.#lo = Number(state & 0xffffffffn);
    this.#hi = Number(state >> 32n);
    this.#length = Number(previousLength);
  }

  /**
   * Feeds `data` and returns this object, for chaining.
   * @throws {TypeError} when `data` is not a Uint8Array
   */
  update(data: Uint8Array): this {
    checkBytes('data', data);
    [this.#lo, this.#hi] = update(this.#lo, this.#hi, data);
    this.#length += data.length;
    return this;
  }

  /** The CRC of everything fed so far (0n for nothing), as an unsigned 64-bit bigint. */
  digest(): bigint {
    return ~join(this.#lo, this.#hi) & MASK64;
  }

  /** The CRC as decimal text, the form of OSS's `x-oss-hash-crc64ecma` header. */
  toString(): string {
    return this.digest().toString(10);
  }

  /** Number of bytes fed so far (including `previousLength`). */
  get length(): number {
    return this.#length;
  }
}

/**
 * The CRC of A‖B from CRC(A), CRC(B) and the length of B alone; for example a whole multipart object's CRC
 * from its parts' CRCs (fold left over the parts in order).
 * @param crcA CRC-64/XZ of the first byte string
 * @param crcB CRC-64/XZ of the second byte string
 * @param lengthB byte length of the second string (a non-negative safe integer or bigint)
 * @throws {RangeError} `"lengthB" expected a non-negative integer, got -5`
 * @example
 *   const whole = parts.reduce((crc, p) => crc64Combine(crc, p.crc, p.size), 0n);
 *   // equals crc64(concatenation of the parts)
 */
export function crc64Combine(crcA: bigint, crcB: bigint, lengthB: number | bigint): bigint {
  checkCrc('crcA', crcA);
  checkCrc('crcB', crcB);
  const bytes = checkLength('lengthB', lengthB);
  if (bytes === 0n) return crcA;
  // Appending n zero bytes to A multiplies the (pre-xorout) register by x^(8n) modulo P; the all-ones init
  // and xorout cancel out between the three CRCs, which is why the plain CRC values combine linearly.
  return multModP(xPow8n(bytes), crcA) ^ crcB;
}

/**
 * Decimal text of a CRC, exactly as OSS writes `x-oss-hash-crc64ecma` (no sign, no leading zeros).
 * @throws {RangeError} when `crc` is not a bigint in [0, 2^64)
 * @example
 *   crc64ToDecimal(0x995dc9bbdf1939fan); // '11051210869376104954'
 */
export function crc64ToDecimal(crc: bigint): string {
  checkCrc('crc', crc);
  return crc.toString(10);
}

/**
 * Parses an `x-oss-hash-crc64ecma` value (decimal text of an unsigned 64-bit integer).
 * @param text the header value
 * @param source where the text came from, for the error message (default: the header name)
 * @throws {IntegrityError} code `INTEGRITY_CRC64` when the text is not a decimal integer below 2^64: a CRC
 *   that cannot be read cannot vouch for anything
 * @example
 *   const serverCrc = parseCrc64Decimal(res.headers['x-oss-hash-crc64ecma']);
 *   if (serverCrc !== crc64(body)) throw ...;
 */
export function parseCrc64Decimal(text: string, source = 'x-oss-hash-crc64ecma'): bigint {
  if (typeof text !== 'string' || !/^[0-9]{1,20}$/.test(text)) {
    throw new IntegrityError(
      'INTEGRITY_CRC64',
      `${source} should be the decimal CRC-64 of the stored bytes, got ${describeValue(text)}`,
    );
  }
  const value = BigInt(text);
  if (value > MASK64) {
    throw new IntegrityError('INTEGRITY_CRC64', `${source} is ${text}, above the 64-bit maximum 18446744073709551615`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// helpers

function buildTables(): void {
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi >>>= 1;
      if (carry) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    TABLE_LO[n] = lo;
    TABLE_HI[n] = hi;
  }
  // Table k: one more zero byte after table k-1's entry, i.e. shift the register by 8 and fold the low byte.
  for (let k = 1; k < SLICES; k++) {
    for (let n = 0; n < 256; n++) {
      const lo = TABLE_LO[(k - 1) * 256 + n];
      const hi = TABLE_HI[(k - 1) * 256 + n];
      const i = lo & 0xff;
      TABLE_LO[k * 256 + n] = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[i]) >>> 0;
      TABLE_HI[k * 256 + n] = ((hi >>> 8) ^ TABLE_HI[i]) >>> 0;
    }
  }
}

// The register handed to the core: [low, high] 32-bit halves. One shared array: every call is synchronous.
const REGISTER = new Uint32Array(2);

/** Runs the reflected register (lo, hi) over `data`, in the core when it is long enough; returns the new register. */
function update(lo: number, hi: number, data: Uint8Array): [number, number] {
  if (data.length >= CRC64_WASM_MIN_BYTES) {
    REGISTER[0] = lo;
    REGISTER[1] = hi;
    if (wasmCrc64Update(REGISTER, data)) return [REGISTER[0], REGISTER[1]];
  }
  return updateJs(lo, hi, data);
}

/**
 * The JavaScript engine alone, for differential tests against the core: CRC-64/XZ of `data` continuing from
 * `previous`, exactly as {@link crc64} but never in WebAssembly.
 * @internal
 * @example
 *   crc64Js(bytes) === crc64(bytes); // true
 */
export function crc64Js(data: Uint8Array, previous: bigint = 0n): bigint {
  checkBytes('data', data);
  checkCrc('previous', previous);
  const state = ~previous & MASK64;
  const [lo, hi] = updateJs(Number(state & 0xffffffffn), Number(state >> 32n), data);
  return ~join(lo, hi) & MASK64;
}

/** Runs the reflected register (lo, hi) over `data` in JavaScript; returns the new register. */
function updateJs(lo: number, hi: number, data: Uint8Array): [number, number] {
  const TL = TABLE_LO;
  const TH = TABLE_HI;
  const n = data.length;
  let i = 0;
  const end8 = n - (n % 8);
  while (i < end8) {
    // Little-endian: the register's low byte meets the first data byte.
    const a = lo ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    const b = hi ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
    const i7 = 7 * 256 + (a & 0xff);
    const i6 = 6 * 256 + ((a >>> 8) & 0xff);
    const i5 = 5 * 256 + ((a >>> 16) & 0xff);
    const i4 = 4 * 256 + (a >>> 24);
    const i3 = 3 * 256 + (b & 0xff);
    const i2 = 2 * 256 + ((b >>> 8) & 0xff);
    const i1 = 256 + ((b >>> 16) & 0xff);
    const i0 = b >>> 24;
    lo = TL[i7] ^ TL[i6] ^ TL[i5] ^ TL[i4] ^ TL[i3] ^ TL[i2] ^ TL[i1] ^ TL[i0];
    hi = TH[i7] ^ TH[i6] ^ TH[i5] ^ TH[i4] ^ TH[i3] ^ TH[i2] ^ TH[i1] ^ TH[i0];
    i += 8;
  }
  for (; i < n; i++) {
    const t = (lo ^ data[i]) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ TL[t];
    hi = (hi >>> 8) ^ TH[t];
  }
  return [lo >>> 0, hi >>> 0];
}

function join(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

// In the reflected representation the most significant bit stands for x^0 and the least for x^63.
const X0 = 1n << 63n;

/** a(x)·b(x) mod P(x) in the reflected representation (zlib's multmodp). */
function multModP(a: bigint, b: bigint): bigint {
  let product = 0n;
  for (let m = X0; m !== 0n; m >>= 1n) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    // b ← b·x mod P: one reflected shift, folding the polynomial back in when x^63 overflows.
    b = b & 1n ? (b >> 1n) ^ CRC64_POLY_REFLECTED : b >> 1n;
  }
  return product;
}

// X2N[k] = x^(2^k) mod P, grown on demand by repeated squaring (about 56 entries for a 2^53-byte length).
const X2N: bigint[] = [X0 >> 1n]; // x^1

/** x^(8·n) mod P (zlib's x2nmodp(n, 3)). */
function xPow8n(n: bigint): bigint {
  let p = X0; // x^0
  let k = 3; // 8·n = n·2^3
  for (; n > 0n; n >>= 1n, k++) {
    while (X2N.length <= k) X2N.push(multModP(X2N[X2N.length - 1], X2N[X2N.length - 1]));
    if (n & 1n) p = multModP(X2N[k], p);
  }
  return p;
}

function checkBytes(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`"${name}" expected a Uint8Array, got ${describeValue(value)}`);
}

function checkCrc(name: string, value: unknown): asserts value is bigint {
  if (typeof value !== 'bigint') throw new TypeError(`"${name}" expected a bigint CRC, got ${describeValue(value)}`);
  if (value < 0n || value > MASK64) {
    throw new RangeError(`"${name}" expected a bigint in [0, 2^64), got ${value}`);
  }
}

function checkLength(name: string, value: unknown): bigint {
  if (typeof value === 'bigint') {
    if (value >= 0n) return value;
  } else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value);
  } else if (typeof value !== 'number') {
    throw new TypeError(`"${name}" expected a non-negative integer, got ${describeValue(value)}`);
  }
  throw new RangeError(`"${name}" expected a non-negative integer, got ${String(value)}`);
}
