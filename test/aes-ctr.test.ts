/**
 * Tests of bindings/cipher/aes-ctr.ts and its engines: the WebAssembly core (release build, the default; and
 * the debug build) and the node:crypto engine (bindings/cipher/native.ts). docs/FORMAT.md §1.
 *
 * One parametrised suite runs against every engine. Oracles: fixed known answers (test/vectors/, FIPS-197 and
 * NIST SP 800-38A, docs/FORMAT.md §1) and node:crypto's `aes-256-ctr` called directly here, with the counter for
 * an offset computed by this file's own BigInt arithmetic (not by bindings/cipher/counter.ts), so a bug in the
 * library's counter maths cannot hide behind a matching oracle.
 *
 * Also here: argument validation, `counterAt`, the core's ABI (instantiated directly from the embedded bytes),
 * the loader's error mapping, and a static guard on what the compiled core contains (no lookup tables).
 * @module
 */
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  aesCtr,
  aesCtrXor,
  BLOCK_BYTES,
  counterAt,
  IV_BYTES,
  KEY_BYTES,
  type CtrBackend,
} from '../bindings/cipher/aes-ctr.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { WasmCoreError } from '../bindings/errors.js';
import { initWasm, wasmBackend, wasmDebugBackend } from '../bindings/cipher/wasm.js';
import { DEBUG_WASM_BASE64 } from '../bindings/wasm/core-debug.wasm.js';
import { RELEASE_WASM_BASE64 } from '../bindings/wasm/core.wasm.js';
import { hex, pseudoRandomBytes, throwsWith, toHex } from './_util.js';

/** Size of the core's IO window; the loader slices input at this size. */
const IO = 65536;
const TWO_128 = 1n << 128n;

interface Vectors {
  blockKnownAnswers: { source: string; key: string; plaintext: string; ciphertext: string }[];
  ctr: { name: string; key: string; iv: string; input?: string; inputAscii?: string; output: string; keystream?: string }[];
  keystreamBlocks: { name: string; key: string; iv: string; block: number; keystream: string }[];
}
const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('./vectors/aes-256-ctr.json', import.meta.url)), 'utf8'),
) as Vectors;

// ---------------------------------------------------------------------------------------------------------------
// Independent oracle

function ivToBig(iv: Uint8Array): bigint {
  let n = 0n;
  for (const byte of iv) n = (n << 8n) | BigInt(byte);
  return n;
}

function bigToIv(n: bigint): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** node:crypto AES-256-CTR from byte `offset`: counter (IV + offset / 16) mod 2^128, skip offset % 16. */
function oracle(key: Uint8Array, iv: Uint8Array, data: Uint8Array, offset: bigint | number = 0): Uint8Array {
  const at = BigInt(offset);
  const cipher = createCipheriv('aes-256-ctr', key, bigToIv((ivToBig(iv) + at / 16n) % TWO_128));
  cipher.update(new Uint8Array(Number(at % 16n)));
  return new Uint8Array(cipher.update(data));
}

/** Deterministic 32-bit generator (xorshift32) for offsets and lengths, so failures reproduce. */
function numbers(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function keyIv(seed: number): { key: Uint8Array; iv: Uint8Array } {
  const bytes = pseudoRandomBytes(48, seed);
  return { key: bytes.subarray(0, 32), iv: bytes.subarray(32) };
}

function equalBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length !== expected.length) assert.unreachable(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.unreachable(`${what}: first difference at byte ${i} of ${actual.length}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The parametrised engine suite

interface Engine {
  name: string;
  /** undefined = the default engine of aesCtr (the release WebAssembly core). */
  backend: CtrBackend | undefined;
}

function ctrSuite(engine: Engine) {
  const s = suite(`aes-256-ctr (${engine.name})`);
  const opts = { backend: engine.backend };
  const xor = (key: Uint8Array, iv: Uint8Array, data: Uint8Array, offset: number | bigint = 0) =>
    aesCtrXor(key, iv, data, offset, opts);

  s('FIPS-197 C.3 AES-256 block, through CTR (counter = plaintext, zero input)', () => {
    for (const v of vectors.blockKnownAnswers) {
      assert.is(toHex(xor(hex(v.key), hex(v.plaintext), new Uint8Array(16))), v.ciphertext, v.source);
    }
  });

  s('NIST SP 800-38A F.5.5 / F.5.6 and the docs/FORMAT.md §1 64-byte vector', () => {
    for (const v of vectors.ctr) {
      const input = v.inputAscii !== undefined ? new TextEncoder().encode(v.inputAscii) : hex(v.input!);
      assert.is(toHex(xor(hex(v.key), hex(v.iv), input)), v.output, v.name);
      if (v.keystream !== undefined) {
        assert.is(toHex(xor(hex(v.key), hex(v.iv), new Uint8Array(input.length))), v.keystream, `${v.name} keystream`);
      }
    }
  });

  s('docs/FORMAT.md §1 carry and 2^128 wrap checks', () => {
    for (const v of vectors.keystreamBlocks) {
      const key = hex(v.key);
      const iv = hex(v.iv);
      const at = v.block * 16;
      assert.is(toHex(xor(key, iv, new Uint8Array(16), at)), v.keystream, `${v.name} (offset ${at})`);
      assert.is(toHex(xor(key, iv, new Uint8Array(at + 16)).subarray(at)), v.keystream, `${v.name} (from 0)`);
    }
  });

  s('every length 0..300 (offsets cycling 0..48) matches node:crypto', () => {
    for (let len = 0; len <= 300; len++) {
      const { key, iv } = keyIv(1000 + len);
      const data = pseudoRandomBytes(len, 5000 + len);
      const offset = (len * 7) % 49;
      equalBytes(xor(key, iv, data, offset), oracle(key, iv, data, offset), `length ${len} at offset ${offset}`);
    }
  });

  s('every offset 0..48 x boundary lengths up to 2*IO+5', () => {
    const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 127, 128, 129, 255, 256, 257, IO - 1, IO, IO + 1, 2 * IO + 5];
    const { key, iv } = keyIv(7);
    const data = pseudoRandomBytes(2 * IO + 5, 8);
    for (const len of lengths) {
      const slice = data.subarray(0, len);
      for (let offset = 0; offset <= 48; offset++) {
        // The long lengths at a few offsets only: keeps the file fast, the short ones cover the skip logic.
        if (len > 300 && offset % 16 !== 0 && offset % 16 !== 1 && offset % 16 !== 15) continue;
        equalBytes(xor(key, iv, slice, offset), oracle(key, iv, slice, offset), `length ${len} at offset ${offset}`);
      }
    }
  });

  s('random offsets up to 2^40 (seeded) match node:crypto', () => {
    const next = numbers(0x5eed);
    for (let i = 0; i < 64; i++) {
      const offset = (BigInt(next() & 0xff) << 32n) | BigInt(next());
      const len = next() % 600;
      const { key, iv } = keyIv(i + 1);
      const data = pseudoRandomBytes(len, i + 77);
      equalBytes(xor(key, iv, data, offset), oracle(key, iv, data, offset), `offset ${offset}, length ${len}`);
      // A number offset gives the same bytes as the bigint one.
      equalBytes(xor(key, iv, data, Number(offset)), oracle(key, iv, data, offset), `number offset ${offset}`);
    }
  });

  s('counter carries: within byte 15..12, across bytes 12->11, 8->7, 4->3 and the 2^128 wrap, at every batch position', () => {
    // k trailing 0xff bytes: the carry out of block `j + 1` runs through k bytes (k = 16 wraps to zero).
    for (const k of [1, 3, 4, 5, 8, 9, 12, 16]) {
      for (let j = 0; j <= 9; j++) {
        const { key, iv } = keyIv(k * 100 + j);
        iv.fill(0xff, 16 - k);
        const base = ivToBig(iv) - BigInt(j);
        const start = bigToIv(base < 0n ? base + TWO_128 : base);
        const data = pseudoRandomBytes(20 * 16 + 5, j);
        for (const offset of [0, 3, 16 * 3 + 9]) {
          equalBytes(xor(key, start, data, offset), oracle(key, start, data, offset), `k=${k} j=${j} offset ${offset}`);
        }
      }
    }
  });

  s('chunked updates give the one-shot bytes (steps 1, 7, 15, 16, 17, 4095, 4096, IO-1, IO, IO+1)', () => {
    const { key, iv } = keyIv(31);
    const small = pseudoRandomBytes(3000, 32);
    const large = pseudoRandomBytes(3 * IO + 5, 33);
    const cases: [Uint8Array, number[]][] = [
      [small, [1, 7, 15, 16, 17]],
      [large, [4095, 4096, IO - 1, IO, IO + 1]],
    ];
    for (const [data, steps] of cases) {
      for (const offset of [0, 9]) {
        const expected = oracle(key, iv, data, offset);
        equalBytes(xor(key, iv, data, offset), expected, `one-shot at ${offset}`);
        for (const step of steps) {
          const stream = aesCtr(key, iv, offset, opts);
          const out = new Uint8Array(data.length);
          for (let at = 0; at < data.length; at += step) {
            const end = Math.min(at + step, data.length);
            out.set(stream.update(data.subarray(at, end)), at);
          }
          assert.is(stream.position, BigInt(offset + data.length), `position after step ${step}`);
          stream.dispose();
          equalBytes(out, expected, `step ${step} at offset ${offset}`);
        }
      }
    }
    // Irregular steps, including empty updates.
    const stream = aesCtr(key, iv, 5, opts);
    const parts: Uint8Array[] = [];
    const next = numbers(99);
    for (let at = 0; at < large.length; ) {
      const step = [0, 1, 13, 16, 200, 4097, IO + 3][next() % 7];
      parts.push(stream.update(large.subarray(at, at + step)));
      at += step;
    }
    equalBytes(Buffer.concat(parts), oracle(key, iv, large, 5), 'irregular steps');
  });

  s('input several times the IO window, one call', () => {
    const { key, iv } = keyIv(41);
    const data = pseudoRandomBytes(4 * IO + 123, 42);
    equalBytes(xor(key, iv, data, 7), oracle(key, iv, data, 7), '4*IO+123 at offset 7');
  });

  s('in place, a longer output, and overlapping views', () => {
    const { key, iv } = keyIv(51);
    const data = pseudoRandomBytes(IO + 100, 52);
    const expected = oracle(key, iv, data, 3);

    const inPlace = data.slice();
    const returned = aesCtr(key, iv, 3, opts).update(inPlace, inPlace);
    assert.ok(returned === inPlace, 'update(x, x) returns x itself');
    equalBytes(inPlace, expected, 'in place');

    const longer = new Uint8Array(data.length + 10).fill(0xaa);
    const view = aesCtr(key, iv, 3, opts).update(data, longer);
    assert.is(view.length, data.length);
    assert.ok(view.buffer === longer.buffer && view.byteOffset === 0, 'returns a view of output');
    equalBytes(view, expected, 'longer output');
    assert.equal([...longer.subarray(data.length)], new Array(10).fill(0xaa), 'bytes past the input untouched');

    // Output one byte after / before the input in the same buffer.
    for (const shift of [1, -1]) {
      const buffer = new Uint8Array(data.length + 1);
      const inputAt = shift > 0 ? 0 : 1;
      buffer.set(data, inputAt);
      const input = buffer.subarray(inputAt, inputAt + data.length);
      const output = buffer.subarray(inputAt + shift, inputAt + shift + data.length);
      aesCtr(key, iv, 3, opts).update(input, output);
      equalBytes(output, expected, `output shifted by ${shift}`);
    }
  });

  s('two interleaved streams with different keys give the bytes of two sequential runs', () => {
    const a = keyIv(61);
    const b = keyIv(62);
    const dataA = pseudoRandomBytes(3 * IO + 17, 63);
    const dataB = pseudoRandomBytes(2 * IO + 999, 64);
    const expectedA = xor(a.key, a.iv, dataA, 11);
    const expectedB = xor(b.key, b.iv, dataB, 0);
    equalBytes(expectedA, oracle(a.key, a.iv, dataA, 11), 'A alone');
    const streamA = aesCtr(a.key, a.iv, 11, opts);
    const streamB = aesCtr(b.key, b.iv, 0, opts);
    const outA: Uint8Array[] = [];
    const outB: Uint8Array[] = [];
    const steps = [1, 100, 5000, IO + 7, 3, 70000];
    let atA = 0;
    let atB = 0;
    for (let i = 0; atA < dataA.length || atB < dataB.length; i++) {
      const step = steps[i % steps.length];
      outA.push(streamA.update(dataA.subarray(atA, atA + step)));
      atA = Math.min(atA + step, dataA.length);
      outB.push(streamB.update(dataB.subarray(atB, atB + step + 1)));
      atB = Math.min(atB + step + 1, dataB.length);
      if (i === 2) {
        // A third stream opened and disposed in the middle (dispose wipes the shared core's windows).
        const c = keyIv(65);
        aesCtr(c.key, c.iv, 0, opts).dispose();
        aesCtrXor(c.key, c.iv, dataB.subarray(0, 1000), 0, opts);
      }
    }
    equalBytes(Buffer.concat(outA), expectedA, 'A interleaved');
    equalBytes(Buffer.concat(outB), expectedB, 'B interleaved');
  });

  s('position, dispose and reuse after dispose', () => {
    const { key, iv } = keyIv(71);
    const stream = aesCtr(key, iv, 2n ** 40n + 5n, opts);
    assert.is(stream.position, 2n ** 40n + 5n);
    stream.update(new Uint8Array(20));
    assert.is(stream.position, 2n ** 40n + 25n);
    stream.dispose();
    stream.dispose(); // idempotent
    assert.throws(() => stream.update(new Uint8Array(1)), (err: unknown) => err instanceof TypeError && /disposed/.test((err as Error).message));
  });

  s("the caller's key, IV and input are left untouched (Node Buffers included)", () => {
    const key = Buffer.from(keyIv(81).key);
    const iv = Buffer.from(keyIv(81).iv);
    const data = Buffer.from(pseudoRandomBytes(IO + 33, 82));
    const copies = [Buffer.from(key), Buffer.from(iv), Buffer.from(data)];
    const out = aesCtrXor(key, iv, data, 0, opts);
    equalBytes(out, oracle(copies[0], copies[1], copies[2]), 'Buffer input');
    assert.ok(copies[0].equals(key) && copies[1].equals(iv) && copies[2].equals(data), 'inputs unchanged after dispose');
  });

  return s;
}

const engines: Engine[] = [
  { name: 'wasm release, default engine', backend: undefined },
  { name: 'wasm debug', backend: wasmDebugBackend() },
  { name: 'native node:crypto', backend: nativeBackend },
];
for (const engine of engines) ctrSuite(engine).run();

// ---------------------------------------------------------------------------------------------------------------
// counterAt and the constants

const counters = suite('counterAt and constants');

counters('constants', () => {
  assert.is(KEY_BYTES, 32);
  assert.is(IV_BYTES, 16);
  assert.is(BLOCK_BYTES, 16);
  assert.is(wasmBackend().name, 'wasm');
  assert.is(wasmDebugBackend().name, 'wasm-debug');
});

counters('counterAt(iv, offset) = (iv + floor(offset / 16)) mod 2^128', () => {
  const iv = hex('0011223344556677 00000000 fffffff0');
  assert.is(toHex(counterAt(iv, 0)), toHex(iv));
  assert.is(toHex(counterAt(iv, 15)), toHex(iv));
  assert.is(toHex(counterAt(iv, 16)), '001122334455667700000000fffffff1');
  assert.is(toHex(counterAt(iv, 16 * 16)), '00112233445566770000000100000000');
  assert.is(toHex(counterAt(new Uint8Array(16).fill(0xff), 16)), '00000000000000000000000000000000');
  assert.is(toHex(counterAt(new Uint8Array(16).fill(0xff), 2n ** 132n + 32n)), '00000000000000000000000000000001');
  const next = numbers(4242);
  for (let i = 0; i < 200; i++) {
    const start = pseudoRandomBytes(16, i + 1);
    if (i % 4 === 0) start.fill(0xff, 8 + (i % 8));
    const offset = (BigInt(next()) << 32n) | BigInt(next());
    const expected = bigToIv((ivToBig(start) + offset / 16n) % TWO_128);
    assert.is(toHex(counterAt(start, offset)), toHex(expected), `offset ${offset}`);
  }
  const before = toHex(iv);
  counterAt(iv, 12345);
  assert.is(toHex(iv), before, 'iv not modified');
});

counters.run();

// ---------------------------------------------------------------------------------------------------------------
// Argument validation (the layer above every engine)

const validation = suite('aes-ctr argument validation');
const goodKey = new Uint8Array(32);
const goodIv = new Uint8Array(16);

validation('key and iv: type and length', () => {
  throwsWith(() => aesCtr(new Uint8Array(31), goodIv), RangeError, /"key" expected 32 bytes, got 31/);
  throwsWith(() => aesCtr(new Uint8Array(33), goodIv), RangeError, /"key" expected 32 bytes, got 33/);
  throwsWith(() => aesCtr(goodKey, new Uint8Array(12)), RangeError, /"iv" expected 16 bytes, got 12/);
  throwsWith(() => aesCtr(goodKey, new Uint8Array(17)), RangeError, /"iv" expected 16 bytes, got 17/);
  throwsWith(() => aesCtr('k'.repeat(32) as unknown as Uint8Array, goodIv), TypeError, /"key" expected a Uint8Array, got string/);
  throwsWith(() => aesCtr(goodKey, new Array(16).fill(0) as unknown as Uint8Array), TypeError, /"iv" expected a Uint8Array, got Array/);
  throwsWith(() => counterAt(new Uint8Array(8), 0), RangeError, /"iv" expected 16 bytes, got 8/);
});

validation('offset: negative, fractional, unsafe, NaN, wrong type', () => {
  throwsWith(() => aesCtr(goodKey, goodIv, -1), RangeError, /"offset" expected a non-negative safe integer, got -1/);
  throwsWith(() => aesCtr(goodKey, goodIv, 1.5), RangeError, /"offset" expected a non-negative safe integer, got 1.5/);
  throwsWith(() => aesCtr(goodKey, goodIv, 2 ** 53), RangeError, /"offset" expected a non-negative safe integer, got 9007199254740992/);
  throwsWith(() => aesCtr(goodKey, goodIv, NaN), RangeError, /got NaN/);
  throwsWith(() => aesCtr(goodKey, goodIv, -3n), RangeError, /"offset" expected a non-negative integer, got -3/);
  throwsWith(() => aesCtr(goodKey, goodIv, '16' as unknown as number), TypeError, /"offset" expected a number or bigint, got string/);
  throwsWith(() => counterAt(goodIv, -16), RangeError, /"offset" expected a non-negative safe integer, got -16/);
});

validation('data, input and output', () => {
  throwsWith(() => aesCtrXor(goodKey, goodIv, [1, 2, 3] as unknown as Uint8Array), TypeError, /"data" expected a Uint8Array, got Array/);
  throwsWith(() => aesCtrXor(goodKey, goodIv, new Uint16Array(4) as unknown as Uint8Array), TypeError, /"data" expected a Uint8Array, got Uint16Array/);
  const stream = aesCtr(goodKey, goodIv);
  throwsWith(() => stream.update(null as unknown as Uint8Array), TypeError, /"input" expected a Uint8Array, got null/);
  throwsWith(() => stream.update(new Uint8Array(4), new Uint8Array(3)), RangeError, /"output" expected at least 4 bytes, got 3/);
  throwsWith(() => stream.update(new Uint8Array(4), new ArrayBuffer(4) as unknown as Uint8Array), TypeError, /"output" expected a Uint8Array, got ArrayBuffer/);
  assert.is(stream.position, 0n, 'failed calls do not move the position');
  stream.dispose();
});

validation.run();

// ---------------------------------------------------------------------------------------------------------------
// The core's ABI, instantiated directly from the embedded bytes

interface RawCore {
  memory: WebAssembly.Memory;
  KEY: WebAssembly.Global;
  CTR: WebAssembly.Global;
  IO: WebAssembly.Global;
  IO_BYTES: WebAssembly.Global;
  ctrXor(len: number, skip: number): void;
  wipe(ioBytes: number): void;
}

function bytesOf(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

const builds = [
  { name: 'release', bytes: bytesOf(RELEASE_WASM_BASE64) },
  { name: 'debug', bytes: bytesOf(DEBUG_WASM_BASE64) },
];

function instantiate(bytes: Uint8Array): { core: RawCore; aborts: string[] } {
  const aborts: string[] = [];
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      abort(message: number, file: number, line: number) {
        aborts.push(`${message}:${file}:${line}`);
        throw new Error('abort');
      },
    },
  });
  return { core: instance.exports as unknown as RawCore, aborts };
}

const abi = suite('wasm core ABI');

abi('exports exactly the documented numbers-only ABI', () => {
  for (const build of builds) {
    const module = new WebAssembly.Module(build.bytes);
    const exports = WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`).sort();
    assert.equal(
      exports,
      [
        'CRC_STATE:global',
        'CTR:global',
        'IO:global',
        'IO_BYTES:global',
        'KEY:global',
        'crc64Update:function',
        'ctrXor:function',
        'memory:memory',
        'wipe:function',
      ],
      build.name,
    );
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    assert.ok(imports.every((i) => i === 'env.abort'), `${build.name} imports only env.abort, got ${imports}`);
    const { core } = instantiate(build.bytes);
    assert.is(core.IO_BYTES.value, IO, `${build.name} IO_BYTES`);
    assert.is(core.memory.buffer.byteLength, 2 * 65536, `${build.name}: two pages`);
    assert.ok((core.IO.value as number) + IO <= core.memory.buffer.byteLength, 'IO inside memory');
  }
});

abi('ctrXor leaves the next counter in CTR and zeroes KEY; wipe(n) zeroes CTR and IO[0..n)', () => {
  for (const build of builds) {
    const { core } = instantiate(build.bytes);
    const memory = new Uint8Array(core.memory.buffer);
    const keyAt = core.KEY.value as number;
    const ctrAt = core.CTR.value as number;
    const ioAt = core.IO.value as number;
    const { key, iv } = keyIv(91);
    for (const [len, skip] of [[0, 0], [1, 0], [15, 1], [16, 0], [17, 15], [300, 7], [IO, 0], [IO, 9], [IO - 3, 3]]) {
      const start = hex('ffffffffffffffffffffffffffffff00');
      memory.set(key, keyAt);
      memory.set(start, ctrAt);
      const data = pseudoRandomBytes(len, len + skip);
      memory.set(data, ioAt);
      core.ctrXor(len, skip);
      equalBytes(memory.subarray(ioAt, ioAt + len), oracle(key, start, data, skip), `${build.name} len ${len} skip ${skip}`);
      const next = bigToIv((ivToBig(start) + BigInt(Math.floor((skip + len) / 16))) % TWO_128);
      assert.is(toHex(memory.subarray(ctrAt, ctrAt + 16)), toHex(next), `${build.name} CTR after len ${len} skip ${skip}`);
      assert.ok(memory.subarray(keyAt, keyAt + 32).every((b) => b === 0), `${build.name}: KEY zeroed after ctrXor`);
    }
    memory.fill(0xee, ioAt, ioAt + IO);
    core.wipe(1000);
    assert.ok(memory.subarray(ctrAt, ctrAt + 16).every((b) => b === 0), 'CTR zeroed by wipe');
    assert.ok(memory.subarray(ioAt, ioAt + 1000).every((b) => b === 0), 'IO[0..1000) zeroed by wipe(1000)');
    assert.is(memory[ioAt + 1000], 0xee, 'IO past 1000 left alone');
    core.wipe(IO + 5);
    assert.ok(memory.subarray(ioAt, ioAt + IO).every((b) => b === 0), 'wipe(n > IO_BYTES) zeroes all of IO only');
  }
});

abi('the debug build asserts its preconditions; the loader maps an abort to WasmCoreError', () => {
  const debug = builds.find((b) => b.name === 'debug')!;
  const { core, aborts } = instantiate(debug.bytes);
  assert.throws(() => core.ctrXor(IO + 1, 0));
  assert.throws(() => core.ctrXor(16, 16));
  assert.is(aborts.length, 2);
  // Through the loader: an engine opened with an out-of-contract skip reaches the core's assertion.
  const session = wasmDebugBackend().open(new Uint8Array(32), new Uint8Array(16), 16);
  try {
    session.process(new Uint8Array(16), new Uint8Array(16));
    assert.unreachable('expected the debug core to abort');
  } catch (err) {
    assert.instance(err, WasmCoreError);
    assert.is((err as WasmCoreError).code, 'WASM_CORE');
    assert.match((err as Error).message, /skip must be below 16/);
    assert.match((err as Error).message, /assembly\/ctr\.ts:\d+:\d+/);
  } finally {
    session.dispose();
  }
});

abi('initWasm() resolves (twice) and the engines work after it', async () => {
  await initWasm({ debug: true });
  await initWasm();
  const { key, iv } = keyIv(95);
  const data = pseudoRandomBytes(1000, 96);
  equalBytes(aesCtrXor(key, iv, data, 0, { backend: wasmBackend() }), oracle(key, iv, data), 'after initWasm');
});

abi.run();

// ---------------------------------------------------------------------------------------------------------------
// Constant-time guard: what the compiled core may contain

// The CRC-64 tables of assembly/crc64.ts are built at start-up (no data segment) and indexed by stored bytes,
// which are public ciphertext; these guards are about AES and key material, which never meet a table.
const guard = suite('wasm core contains no lookup tables');

/** Data segments of a wasm binary (section 11): their offsets and bytes. */
function dataSegments(bytes: Uint8Array): { offset: number; data: Uint8Array }[] {
  let at = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) === 0) return result >>> 0;
    }
  };
  const segments: { offset: number; data: Uint8Array }[] = [];
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 11) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const flags = leb();
        let offset = -1;
        if (flags === 0 || flags === 2) {
          if (flags === 2) leb(); // memory index
          assert.is(bytes[at++], 0x41, 'offset expression is i32.const');
          offset = leb(); // small positive offsets: unsigned read is fine
          assert.is(bytes[at++], 0x0b, 'offset expression ends');
        }
        const length = leb();
        segments.push({ offset, data: bytes.subarray(at, at + length) });
        at += length;
      }
    }
    at = end;
  }
  return segments;
}

function contains(haystack: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

guard('release: no data segments at all (the windows are zero-initialised memory), no table', () => {
  const release = builds.find((b) => b.name === 'release')!;
  assert.equal(dataSegments(release.bytes), [], 'release data segments');
  const module = new WebAssembly.Module(release.bytes);
  assert.ok(!WebAssembly.Module.exports(module).some((e) => e.kind === 'table'), 'no exported table');
});

guard('debug: the only non-zero data are assertion messages and file names', () => {
  const debug = builds.find((b) => b.name === 'debug')!;
  // Lay the segments out as the module's memory would hold them (the optimiser may split or merge them).
  const image = new Uint8Array(2 * 65536);
  for (const { offset, data } of dataSegments(debug.bytes)) image.set(data, offset);
  // An AssemblyScript string object: header (mmInfo, gcInfo, gcInfo2, class id 2, byte length), UTF-16 text.
  const covered = new Uint8Array(image.length);
  const texts: string[] = [];
  const view = new DataView(image.buffer);
  for (let at = 4; at + 8 <= image.length; at += 4) {
    const length = view.getUint32(at + 4, true);
    if (view.getUint32(at, true) !== 2 || length === 0 || length % 2 !== 0 || length > 512) continue;
    const text = Buffer.from(image.subarray(at + 8, at + 8 + length)).toString('utf16le');
    if (!/^[\x20-\x7e]+$/.test(text)) continue;
    texts.push(text);
    covered.fill(1, at - 12, at + 8 + length);
  }
  const stray = image.findIndex((byte, i) => byte !== 0 && covered[i] === 0);
  assert.is(stray, -1, `non-zero data outside string objects at ${stray}`);
  assert.ok(texts.some((t) => t.includes('skip must be below 16')), `assertion messages found: ${texts.join(' | ')}`);
});

guard('neither build holds the AES S-box, its inverse or a T-table', () => {
  const needles: [string, number[]][] = [
    ['S-box', [0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5]],
    ['inverse S-box', [0x52, 0x09, 0x6a, 0xd5, 0x30, 0x36, 0xa5, 0x38]],
    ['T-table Te0 (little-endian)', [0xa5, 0x63, 0x63, 0xc6, 0x84, 0x7c, 0x7c, 0xf8]],
    ['T-table Te0 (big-endian)', [0xc6, 0x63, 0x63, 0xa5, 0xf8, 0x7c, 0x7c, 0x84]],
  ];
  for (const build of builds) {
    for (const [name, needle] of needles) assert.not.ok(contains(build.bytes, needle), `${build.name} contains the ${name}`);
  }
});

/** A parsed S-expression: an atom, or a list. */
type Sexp = string | Sexp[];

/** Parses Binaryen's folded text format into nested lists (quoted strings become one atom). */
function parseSexps(text: string): Sexp[] {
  const tokens = text.match(/\(|\)|"(?:[^"\\]|\\.)*"|[^\s()]+/g) ?? [];
  const stack: Sexp[][] = [[]];
  for (const token of tokens) {
    if (token === '(') stack.push([]);
    else if (token === ')') {
      const done = stack.pop()!;
      stack[stack.length - 1].push(done);
    } else stack[stack.length - 1].push(token);
  }
  return stack[0];
}

function* walk(node: Sexp): Generator<Sexp[]> {
  if (typeof node === 'string') return;
  yield node;
  for (const child of node) yield* walk(child);
}

guard('every byte permutation has constant indices (no data-dependent swizzle, no table)', () => {
  for (const build of builds) {
    const module = binaryen.readBinary(build.bytes);
    const text = module.emitText();
    module.dispose();
    let swizzles = 0;
    for (const node of walk(parseSexps(text))) {
      if (node[0] === 'table' || node[0] === 'elem') {
        // The debug build keeps AssemblyScript's empty function table; nothing may be in it.
        assert.ok(node.length <= 4 && !node.some((c) => typeof c === 'string' && c.startsWith('$assembly')), `${build.name}: ${JSON.stringify(node)}`);
      }
      if (node[0] !== 'i8x16.swizzle') continue;
      swizzles++;
      const indices = node[2];
      assert.ok(Array.isArray(indices) && indices[0] === 'v128.const', `${build.name}: swizzle indices are ${JSON.stringify(indices)?.slice(0, 80)}`);
    }
    assert.ok(swizzles > 0, `${build.name}: the rounds use constant swizzles`);
  }
});

guard('both builds stay small: the compiler merged the one-output-per-call circuit copies', () => {
  // sbox.ts, mixcolumns.ts and bitslice.ts return one plane per call and rely on the optimiser (-O3 in both
  // targets) to merge the 8 calls of a round; without that the module grows several-fold (700 KB observed).
  for (const build of builds) assert.ok(build.bytes.length < 40_000, `${build.name}: ${build.bytes.length} bytes`);
});

guard.run();
