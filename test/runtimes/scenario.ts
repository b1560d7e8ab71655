/**
 * The runtime scenario: one file, bundled by esbuild and run unchanged in Node, Deno, Bun and workerd
 * (test/runtimes/runtimes.test.ts) against the OSS and KMS stand-ins on 127.0.0.1. It uses only what every
 * runtime has (fetch, Web Crypto, Web Streams, WebAssembly) and exercises what exists on this branch: the fetch
 * transport with the V4 signer (put, whole and ranged get, stream get, head, multipart with two parts in
 * flight, a signed URL, a wrong secret surfaced with code/status/requestId/ec), fetchKmsClient (Encrypt,
 * Decrypt, GenerateDataKey), and the WASM AES core: its keystream checked against the runtime's own Web Crypto
 * AES-CTR, an object encrypted with it, stored through the transport and decrypted from a ranged read.
 *
 * Each step reports `{ step, ok, ms, error? }`; a step's failure never stops the next one. Where the runtime
 * compiles no WebAssembly from bytes (workerd), the entry passes the platform-compiled core as `wasmModule`.
 * @module
 */
import { aesCtr, aesCtrXor } from '../../bindings/cipher/aes-ctr.js';
import { fetchKmsClient } from '../../bindings/keys/kms-fetch.js';
import { createFetchOss, OssRequestError, type FetchOss } from '../../bindings/oss/fetch/index.js';
import { initWasm } from '../../bindings/wasm/core.js';

/** What the runner hands the scenario. */
export interface ScenarioEnv {
  ossEndpoint: string;
  region: string;
  bucket: string;
  ossCredentials: { accessKeyId: string; accessKeySecret: string };
  kmsEndpoint: string;
  kmsCredentials: { accessKeyId: string; accessKeySecret: string };
  kmsKeyId: string;
  /** Key prefix so runtimes do not overwrite each other's objects. */
  prefix: string;
}

/** One step's outcome. */
export interface StepResult {
  step: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** The steps, in order (the runner registers one test per step and runtime). */
export const STEPS = [
  'put 100 KiB, get whole',
  'ranged get bytes=-1000 and bytes=5-70000',
  'getStream reads the whole object',
  'head: length and user metadata',
  'multipart 3 MiB in 1 MiB parts, two in flight',
  'signed URL GET',
  'wrong secret: SignatureDoesNotMatch with code, status, requestId, ec',
  'KMS Encrypt/Decrypt/GenerateDataKey round trip',
  'WASM AES-CTR equals Web Crypto AES-CTR',
  'encrypted object: put, ranged get, decrypt at offset',
] as const;

/**
 * Runs every step and returns their outcomes.
 * @example
 *   const results = await runScenario(env);
 *   console.log(JSON.stringify(results));
 */
export async function runScenario(env: ScenarioEnv, options: { wasmModule?: WebAssembly.Module } = {}): Promise<StepResult[]> {
  // workerd compiles no code from bytes: its entry hands over the core as the platform compiled it.
  const wasmReady = () => initWasm({ module: options.wasmModule });
  const oss = createFetchOss({ endpoint: env.ossEndpoint, bucket: env.bucket, region: env.region, credentials: env.ossCredentials, pathStyle: true });
  const data = pattern(100 * 1024, 7);
  const key = `${env.prefix}/object.bin`;
  const steps: Record<(typeof STEPS)[number], () => Promise<void>> = {
    'put 100 KiB, get whole': async () => {
      const put = await oss.put(key, data, { headers: { 'x-oss-meta-runtime': env.prefix } });
      check(put.status === 200 && typeof put.etag === 'string' && typeof put.crc64 === 'string', `put answered ${put.status}`);
      const got = await oss.get(key);
      checkBytes(got.body, data, 'whole get');
      check(got.crc64 === put.crc64, 'crc64 differs between put and get');
    },
    'ranged get bytes=-1000 and bytes=5-70000': async () => {
      checkBytes((await oss.get(key, { range: 'bytes=-1000' })).body, data.subarray(data.length - 1000), 'bytes=-1000');
      const mid = await oss.get(key, { range: 'bytes=5-70000' });
      check(mid.status === 206, `ranged get answered ${mid.status}`);
      checkBytes(mid.body, data.subarray(5, 70001), 'bytes=5-70000');
    },
    'getStream reads the whole object': async () => {
      const got = await oss.getStream(key);
      checkBytes(await readAll(got.body), data, 'stream');
    },
    'head: length and user metadata': async () => {
      const head = await oss.head(key);
      check(head.contentLength === data.length, `head length ${head.contentLength}`);
      check(head.meta.runtime === env.prefix, `head meta ${JSON.stringify(head.meta)}`);
    },
    'multipart 3 MiB in 1 MiB parts, two in flight': async () => {
      await multipart(oss, `${env.prefix}/multipart.bin`);
    },
    'signed URL GET': async () => {
      const res = await fetch(await oss.signUrl(key, { expires: 300 }));
      check(res.status === 200, `signed URL answered ${res.status}`);
      checkBytes(new Uint8Array(await res.arrayBuffer()), data, 'signed URL body');
    },
    'wrong secret: SignatureDoesNotMatch with code, status, requestId, ec': async () => {
      const bad = createFetchOss({ endpoint: env.ossEndpoint, bucket: env.bucket, region: env.region, credentials: { ...env.ossCredentials, accessKeySecret: 'wrong' }, pathStyle: true });
      try {
        await bad.get(key);
      } catch (err) {
        check(err instanceof OssRequestError, `not an OssRequestError: ${String(err)}`);
        const e = err as OssRequestError;
        check(e.code === 'SignatureDoesNotMatch' && e.status === 403 && !!e.requestId && e.ec === '0002-00000040', `got ${e.code} ${e.status} ${e.requestId} ${e.ec}`);
        return;
      }
      throw new Error('a wrong secret was accepted');
    },
    'KMS Encrypt/Decrypt/GenerateDataKey round trip': async () => {
      const kms = fetchKmsClient({ endpoint: env.kmsEndpoint, protocol: 'http', credentials: env.kmsCredentials });
      const context = JSON.stringify({ 'x-passphrase': env.prefix });
      const enc = await kms.encrypt({ keyId: env.kmsKeyId, plaintext: 'cnVudGltZQ==', encryptionContext: context });
      const dec = await kms.decrypt({ ciphertextBlob: enc.ciphertextBlob, encryptionContext: context });
      check(dec.plaintext === 'cnVudGltZQ==', 'Decrypt did not give back the plaintext');
      const dk = await kms.generateDataKey({ keyId: env.kmsKeyId, keySpec: 'AES_256', numberOfBytes: 32 });
      check((await kms.decrypt({ ciphertextBlob: dk.ciphertextBlob })).plaintext === dk.plaintext, 'data key does not decrypt to itself');
    },
    'WASM AES-CTR equals Web Crypto AES-CTR': async () => {
      await wasmReady();
      const { cek, iv } = keyAndIv();
      const plain = pattern(5000, 3);
      const ours = aesCtrXor(cek, iv, plain);
      const cryptoKey = await crypto.subtle.importKey('raw', cek, 'AES-CTR', false, ['encrypt']);
      const theirs = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter: iv, length: 128 }, cryptoKey, plain));
      checkBytes(ours, theirs, 'keystream');
    },
    'encrypted object: put, ranged get, decrypt at offset': async () => {
      await wasmReady();
      const { cek, iv } = keyAndIv();
      const cipherKey = `${env.prefix}/encrypted.bin`;
      await oss.put(cipherKey, aesCtrXor(cek, iv, data));
      const part = await oss.get(cipherKey, { range: 'bytes=1000-50999' });
      const stream = aesCtr(cek, iv, 1000);
      checkBytes(stream.update(part.body), data.subarray(1000, 51000), 'decrypted range');
      stream.dispose();
    },
  };
  const results: StepResult[] = [];
  for (const step of STEPS) {
    const start = Date.now();
    try {
      await steps[step]();
      results.push({ step, ok: true, ms: Date.now() - start });
    } catch (err) {
      results.push({ step, ok: false, ms: Date.now() - start, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
  }
  return results;
}

async function multipart(oss: FetchOss, key: string): Promise<void> {
  const partSize = 1024 * 1024;
  const whole = pattern(3 * partSize, 11);
  const { uploadId } = await oss.initiateMultipartUpload(key);
  const numbers = [1, 2, 3];
  const parts: { partNumber: number; etag: string }[] = [];
  let inFlight = 0;
  let peak = 0;
  const worker = async () => {
    for (let n = numbers.shift(); n !== undefined; n = numbers.shift()) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      const r = await oss.uploadPart(key, uploadId, n, whole.subarray((n - 1) * partSize, n * partSize));
      inFlight--;
      parts.push({ partNumber: n, etag: r.etag as string });
    }
  };
  await Promise.all([worker(), worker()]);
  check(peak === 2, `expected two parts in flight, saw ${peak}`);
  const listed = await oss.listParts(key, uploadId);
  check(listed.parts.length === 3, `listParts shows ${listed.parts.length}`);
  await oss.completeMultipartUpload(key, uploadId, parts);
  checkBytes((await oss.get(key, { range: `bytes=${partSize - 10}-${partSize + 9}` })).body, whole.subarray(partSize - 10, partSize + 10), 'across the part boundary');
  checkBytes((await oss.get(key)).body, whole, 'whole multipart object');
}

function keyAndIv(): { cek: Uint8Array; iv: Uint8Array } {
  const cek = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(16));
  iv.fill(0xff, 12); // the counter is about to carry out of the low 32 bits: both engines must carry alike
  return { cek, iv };
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function checkBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  check(actual.length === expected.length, `${what}: ${actual.length} bytes, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) throw new Error(`${what}: differs at byte ${i}`);
}
