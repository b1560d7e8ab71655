/**
 * CRC-64/XZ engines (`npm run bench:crc64`): the WebAssembly core's slicing-by-16 (assembly/crc64.ts, what
 * `crc64()` uses from CRC64_WASM_MIN_BYTES on) against the JavaScript slicing-by-8 (`crc64Js`), same inputs, same
 * run, at sizes from a small chunk to a multipart part. Cross-validated first: both engines must give the same
 * CRC. MB/s is 10^6 bytes per second, mean of the timed iterations; the last column is WASM over JavaScript.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { crc64Js } from '../bindings/integrity/crc64.js';
import { wasmCrc64Update } from '../bindings/integrity/crc64-wasm.js';
import { crossValidate, formatSize, formatTable, machine, megabytesPerSecond, timeOne, type Contender } from './_util.js';

const SIZES = [64, 512, 1024, 4096, 64 * 1024, 4 * 1024 * 1024];

/** The CRC as 8 big-endian bytes, so that crossValidate can compare engines. */
const bytesOf = (crc: bigint) => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, crc);
  return out;
};

const register = new Uint32Array(2);
const contenders: Contender[] = [
  { name: 'js', encrypt: (data) => bytesOf(crc64Js(data)) },
  {
    name: 'wasm',
    encrypt: (data) => {
      register.fill(0xffffffff);
      if (!wasmCrc64Update(register, data)) throw new Error('the WebAssembly core is not available');
      return bytesOf(~((BigInt(register[1]) << 32n) | BigInt(register[0])) & 0xffffffffffffffffn);
    },
  },
];

console.log(`bench:crc64  node ${machine().node}  ${machine().cpu}\n`);
const rows: string[][] = [];
for (const size of SIZES) {
  const input = randomFillSync(new Uint8Array(size));
  crossValidate(contenders, input);
  const budget = { iterations: 20, time: 300, warmupIterations: 5 };
  const rates: number[] = [];
  for (const c of contenders) rates.push(megabytesPerSecond(size, await timeOne(`${c.name} ${size}`, () => c.encrypt(input), budget)));
  const [js, wasm] = rates;
  rows.push([formatSize(size), js.toFixed(0), wasm.toFixed(0), (wasm / js).toFixed(2)]);
}
console.log(formatTable(['size', 'js MB/s', 'wasm MB/s', 'wasm / js'], rows));
