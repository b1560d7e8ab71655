/**
 * CRC-64/XZ (ECMA-182 polynomial, reflected; the checksum of OSS's `x-oss-hash-crc64ecma`, docs/FORMAT.md §6) over
 * the IO window, slicing-by-16.
 *
 * Table lookups indexed by the data are fine here, unlike in AES: the CRC is computed over the STORED bytes, which
 * for an encrypted object are the ciphertext that OSS itself holds and reports a CRC of. Nothing secret reaches
 * this code, so its cache timing reveals nothing. (WASM has no carry-less multiply, so folding is not an option.)
 *
 * ABI: JS writes the register (the complement of the CRC so far, little-endian u64) into CRC_STATE and the bytes
 * into IO, calls `crc64Update(len)`, and reads the register back. The call keeps no other state, so it never
 * depends on, or disturbs, a CTR stream that shares the instance.
 */
import { IO, IO_BYTES } from './windows';

/** The reflected ECMA-182 polynomial. */
const POLY: u64 = 0xc96c5795d7870f42;

/** The 8-byte CRC register window (complemented CRC, little-endian). */
export const CRC_STATE: usize = memory.data(8, 8);

// TABLES[k * 256 + n]: the register after feeding byte n followed by k zero bytes; 16 tables of 256 u64 (32 KiB).
// Sixteen bytes per step halve the loop-carried dependency of slicing-by-8 (measured: bench/crc64.bench.ts).
const SLICES: u32 = 16;
const TABLES: usize = memory.data(SLICES * 256 * 8, 8);
buildTables();

/**
 * Runs the register in CRC_STATE over IO[0..len) and stores it back.
 * @param len bytes to checksum, at most IO_BYTES
 */
export function crc64Update(len: u32): void {
  assert(len <= IO_BYTES, 'crc64Update: len exceeds IO_BYTES');
  let crc = load<u64>(CRC_STATE);
  let p = IO;
  const end16 = IO + (len & ~15);
  const end = IO + len;
  while (p < end16) {
    crc ^= load<u64>(p);
    const next = load<u64>(p, 8);
    crc =
      entry(15, crc) ^ entry(14, crc >> 8) ^ entry(13, crc >> 16) ^ entry(12, crc >> 24) ^
      entry(11, crc >> 32) ^ entry(10, crc >> 40) ^ entry(9, crc >> 48) ^ entry(8, crc >> 56) ^
      entry(7, next) ^ entry(6, next >> 8) ^ entry(5, next >> 16) ^ entry(4, next >> 24) ^
      entry(3, next >> 32) ^ entry(2, next >> 40) ^ entry(1, next >> 48) ^ entry(0, next >> 56);
    p += 16;
  }
  while (p < end) {
    crc = (crc >> 8) ^ load<u64>(TABLES + (<usize>((crc ^ <u64>load<u8>(p)) & 0xff) << 3));
    p++;
  }
  store<u64>(CRC_STATE, crc);
}

/** Table `k`'s entry for the low byte of `v`. */
// @ts-ignore: decorator
@inline
function entry(k: u32, v: u64): u64 {
  return load<u64>(TABLES + (((<usize>k << 8) + <usize>(v & 0xff)) << 3));
}

function buildTables(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = <u64>n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
    store<u64>(TABLES + (<usize>n << 3), c);
  }
  // Table k: one more zero byte after table k-1's entry.
  for (let k: u32 = 1; k < SLICES; k++) {
    for (let n: u32 = 0; n < 256; n++) {
      const prev = load<u64>(TABLES + ((<usize>(k - 1) * 256 + n) << 3));
      store<u64>(TABLES + ((<usize>k * 256 + n) << 3), (prev >> 8) ^ load<u64>(TABLES + (<usize>(prev & 0xff) << 3)));
    }
  }
}
