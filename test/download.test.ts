/**
 * Tests of the resumable, parallel download (bindings/download/resumable.ts) over real HTTP: the real ali-oss
 * client against the loopback OSS stand-in, on both AES engines (the WASM core and node:crypto).
 * @module
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { aesCtrXor } from '../bindings/cipher/aes-ctr.js';
import type { CtrBackend } from '../bindings/cipher/backend.js';
import { nativeBackend } from '../bindings/cipher/native.js';
import { wasmBackend } from '../bindings/cipher/wasm.js';
import type { AliOssLike } from '../bindings/oss/ali-oss.js';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { parseDownloadCheckpoint, type DownloadCheckpoint } from '../bindings/download/checkpoint.js';
import type { DownloadFileOptions } from '../bindings/download/resumable.js';
import { decodeEnvelope, encodeEnvelope } from '../bindings/envelope/codec.js';
import { CEK_ALG } from '../bindings/envelope/headers.js';
import { encodeBase64 } from '../bindings/util/base64.js';
import { CheckpointError, IntegrityError, OssCryptoError, PlaintextObjectError } from '../bindings/errors.js';
import { KeyRing } from '../bindings/keys/keyring.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { createHash } from 'node:crypto';
import { fixturePath, pseudoRandomBytes, rejects, toHex } from './_util.js';
import { startOssServer, type OssLogEntry, type OssServer } from './support/oss-server.js';
import { interopVectors, plaintextOf, putVector, startRewritingProxy, type RewritingProxy } from './support/fixtures-server.js';

const BUCKET = 'dl-bucket';
const PRIVATE_KEY = await readFile(fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.private.pem'), 'utf8');
const FAST_RETRY = { retries: 2, baseDelayMs: 1, maxDelayMs: 4 };

const ENGINES: Array<{ name: string; backend: CtrBackend | undefined }> = [
  { name: 'wasm', backend: wasmBackend() },
  { name: 'native', backend: nativeBackend },
];

let oss: OssServer;
let proxy: RewritingProxy;
let dir: string;
let counter = 0;

function client(backend: CtrBackend | undefined, extra: { plaintext?: 'allow' | 'reject'; endpoint?: string } = {}): CryptoClient {
  const ali = oss.client(BUCKET, extra.endpoint === undefined ? {} : { endpoint: extra.endpoint });
  return new CryptoClient(ali as unknown as AliOssLike, {
    material: rsaKeyWrapper({ privateKey: PRIVATE_KEY }),
    backend,
    retry: FAST_RETRY,
    plaintext: extra.plaintext ?? 'reject',
  });
}

/** A fresh target path and checkpoint path in the test directory. */
function paths(): { file: string; cp: string } {
  counter++;
  return { file: join(dir, `out-${counter}.bin`), cp: join(dir, `out-${counter}.checkpoint.json`) };
}

/** Stores `plain` encrypted (through the client's own put) under a fresh key. */
async function putEncrypted(c: CryptoClient, plain: Uint8Array, key = `obj-${++counter}`): Promise<string> {
  await c.put(key, Buffer.from(plain));
  return key;
}

function gets(key: string, since = 0): OssLogEntry[] {
  return oss.log.filter((e) => e.seq > since && e.key === key && e.kind === 'get');
}

function lastSeq(): number {
  return oss.log.length === 0 ? 0 : oss.log[oss.log.length - 1].seq;
}

/** Files of the test directory whose names start with `prefix` (to see temporary files left behind). */
async function leftovers(file: string): Promise<string[]> {
  const base = file.slice(dir.length + 1);
  return (await readdir(dir)).filter((n) => n.startsWith(base));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}


function rangeOf(entry: OssLogEntry): string | undefined {
  return entry.range;
}

function expectedRanges(size: number, partSize: number, only?: Set<number>): string[] {
  const out: string[] = [];
  for (let i = 0; i * partSize < size; i++) {
    if (only && !only.has(i + 1)) continue;
    out.push(`bytes=${i * partSize}-${Math.min(size, (i + 1) * partSize) - 1}`);
  }
  return out;
}

const setup = async () => {
  oss = await startOssServer();
  proxy = await startRewritingProxy(oss.endpoint);
  dir = await mkdtemp(join(tmpdir(), 'oss-crypto-download-'));
};
const teardown = async () => {
  await proxy.close();
  await oss.close();
  await rm(dir, { recursive: true, force: true });
};

for (const engine of ENGINES) {
  const s = suite(`resumable download (${engine.name})`);
  s.before(setup);
  s.after(teardown);
  s.before.each(() => {
    oss.clearFaults();
    proxy.rewrite = () => undefined;
  });

  s('byte-exact around part boundaries; HEAD once, then If-Match ranged GETs with x-oss-range-behavior', async () => {
    const c = client(engine.backend);
    const partSize = 1000;
    for (const size of [0, 1, 15, 16, 17, 999, 1000, 1001, 2999, 3000, 3001, 4096]) {
      const plain = pseudoRandomBytes(size, size + 7);
      const key = await putEncrypted(c, plain);
      const { file } = paths();
      const since = lastSeq();
      const progress: number[] = [];
      const result = await c.resumableDownload(key, file, { partSize, parallel: 3, progress: (p) => void progress.push(p) });
      assert.equal(new Uint8Array(await readFile(file)), plain, `size ${size}`);
      const stored = oss.getObject(BUCKET, key)!;
      assert.is(result.size, size);
      assert.is(result.etag, stored.etag);
      assert.is(result.crc64ecma, stored.crc64.toString());
      assert.is(result.encrypted, true);
      assert.is(result.fetchedParts, Math.ceil(size / partSize));
      assert.is(result.resumedParts, 0);
      const log = oss.log.filter((e) => e.seq > since && e.key === key);
      assert.equal(log.map((e) => e.kind).filter((k) => k === 'head'), ['head'], 'one HEAD');
      const partGets = log.filter((e) => e.kind === 'get');
      assert.equal(partGets.map(rangeOf).sort(), expectedRanges(size, partSize).sort(), `ranges for size ${size}`);
      for (const e of partGets) {
        assert.is(e.headers['if-match'], stored.etag);
        assert.is(e.headers['x-oss-range-behavior'], 'standard');
        assert.is(e.status, 206);
      }
      // ali-oss's progress: 0 once planned, k/(n+1) per part, 1 at the end.
      const n = Math.ceil(size / partSize);
      assert.equal(progress, [0, ...Array.from({ length: n }, (_, i) => (i + 1) / (n + 1)), 1], `progress for size ${size}`);
      assert.equal(await leftovers(file), [file.slice(dir.length + 1)], 'no temporary file left');
    }
  });

  s('the content key is unwrapped once per download, however many parts and retries', async () => {
    const rsa = rsaKeyWrapper({ privateKey: PRIVATE_KEY });
    let unwraps = 0;
    const counting = {
      wrapAlg: rsa.wrapAlg,
      matdesc: rsa.matdesc,
      canWrap: rsa.canWrap,
      canUnwrap: rsa.canUnwrap,
      wrap: (content: Parameters<typeof rsa.wrap>[0]) => rsa.wrap(content),
      unwrap: (wrapped: Parameters<typeof rsa.unwrap>[0]) => {
        unwraps++;
        return rsa.unwrap(wrapped);
      },
    };
    const c = new CryptoClient(oss.client(BUCKET) as unknown as AliOssLike, { material: counting, backend: engine.backend, retry: FAST_RETRY });
    const plain = pseudoRandomBytes(8000, 13);
    const key = await putEncrypted(c, plain);
    oss.inject({ kind: 'get', key, nth: 3, status: 500 });
    const { file } = paths();
    unwraps = 0;
    await c.resumableDownload(key, file, { partSize: 1000, parallel: 4 });
    assert.equal(new Uint8Array(await readFile(file)), plain);
    assert.is(unwraps, 1);
  });

  s('parts decrypted on worker threads (workers: 2) give the exact file, also when a body breaks off and is fetched again', async () => {
    const c = client(engine.backend);
    const plain = pseudoRandomBytes(3 * 1024 * 1024 + 77, 17);
    const key = await putEncrypted(c, plain);
    const { file } = paths();
    oss.inject({ kind: 'get', key, nth: 3, reset: { afterBytes: 70_000 } });
    const since = lastSeq();
    const result = await c.resumableDownload(key, file, { partSize: 512 * 1024, parallel: 3, workers: 2 });
    assert.equal(new Uint8Array(await readFile(file)), plain);
    assert.is(result.fetchedParts, 7);
    assert.is(gets(key, since).length, 7 + 1, 'seven parts plus the one fetched again');
    await rejects(c.resumableDownload(key, paths().file, { workers: -1 }), (err) => {
      assert.instance(err, RangeError);
      assert.match(err.message, /"workers" expected an integer from 0 to 64, got -1/);
    });
  });

  s('a part that fails transiently (503, then a reset mid-body) is retried; the file is exact', async () => {
    const c = client(engine.backend);
    const plain = pseudoRandomBytes(5000, 3);
    const key = await putEncrypted(c, plain);
    const { file } = paths();
    oss.inject({ kind: 'get', key, nth: 2, status: 503 });
    oss.inject({ kind: 'get', key, nth: 4, reset: { afterBytes: 100 } });
    const since = lastSeq();
    await c.resumableDownload(key, file, { partSize: 1024, parallel: 2 });
    assert.equal(new Uint8Array(await readFile(file)), plain);
    const log = gets(key, since);
    assert.is(log.length, 5 + 2, 'five parts plus two retries');
    assert.is(log.filter((e) => e.status === 503).length, 1);
    // Every range was finally answered 206.
    assert.equal([...new Set(log.filter((e) => e.status === 206).map(rangeOf))].sort(), expectedRanges(5000, 1024).sort());

    // A body that keeps breaking off: retried (retries: 2), then INTEGRITY_TRUNCATED, no output.
    const again = paths();
    oss.inject({ kind: 'get', key, nth: 1, times: Infinity, reset: { afterBytes: 10 } });
    const err = await rejects(c.resumableDownload(key, again.file, { partSize: 1024, parallel: 1 }));
    assert.instance(err, IntegrityError);
    assert.is(err.code, 'INTEGRITY_TRUNCATED');
    assert.match(err.message, /part 1 .* broke off 3 times/);
    assert.not.ok(await exists(again.file));
    assert.equal(await leftovers(again.file), []);
  });

  s('a persistent fault: the OSS error passes through with the checkpoint, no output; resume fetches only the missing parts', async () => {
    const c = client(engine.backend);
    const size = 10 * 1000 + 123;
    const plain = pseudoRandomBytes(size, 11);
    const key = await putEncrypted(c, plain);
    const { file, cp } = paths();
    await writeFile(file, 'old content stays until the new one is complete');
    oss.inject({ kind: 'get', key, nth: 4, times: Infinity, status: 503 });
    const err = await rejects(c.resumableDownload(key, file, { partSize: 1000, parallel: 3, checkpoint: cp }));
    // ali-oss's error, untouched but for the added checkpoint.
    assert.is(err.status, 503);
    assert.is(err.code, 'ServiceUnavailable');
    assert.not.instance(err, OssCryptoError);
    const saved = parseDownloadCheckpoint(await readFile(cp, 'utf8'));
    assert.equal(err.checkpoint, saved);
    assert.ok(saved.doneParts.length >= 1 && saved.doneParts.length < 11, `parts done: ${saved.doneParts.length}`);
    assert.is(await readFile(file, 'utf8'), 'old content stays until the new one is complete');
    assert.ok(await exists(saved.tempPath), 'the temporary file is kept for the resume');

    oss.clearFaults();
    const since = lastSeq();
    const result = await c.resumableDownload(key, file, { checkpoint: cp, parallel: 3 });
    assert.equal(new Uint8Array(await readFile(file)), plain);
    const done = new Set(saved.doneParts.map((p) => p.number));
    const missing = new Set(Array.from({ length: 11 }, (_, i) => i + 1).filter((n) => !done.has(n)));
    assert.equal(gets(key, since).map(rangeOf).sort(), expectedRanges(size, 1000, missing).sort(), 'only the missing parts');
    assert.is(result.resumedParts, done.size);
    assert.is(result.fetchedParts, missing.size);
    assert.not.ok(await exists(cp), 'checkpoint removed after success');
    assert.not.ok(await exists(saved.tempPath), 'temporary file renamed');
  });

  s('the checkpoint object (from err.checkpoint) resumes too; it holds no key material', async () => {
    const c = client(engine.backend);
    const plain = pseudoRandomBytes(4000, 5);
    const key = await putEncrypted(c, plain);
    const { file } = paths();
    oss.inject({ kind: 'get', key, nth: 2, times: Infinity, status: 500 });
    const err = await rejects(c.resumableDownload(key, file, { partSize: 1000, parallel: 1, checkpoint: {} as never }));
    // An empty object is not a checkpoint.
    assert.instance(err, CheckpointError);
    assert.is(err.code, 'CHECKPOINT_MALFORMED');

    const first = await rejects(c.resumableDownload(key, file, { partSize: 1000, parallel: 1, checkpoint: join(dir, `cp-obj-${counter}.json`) }));
    const checkpoint: DownloadCheckpoint = first.checkpoint;
    assert.equal(checkpoint.doneParts.map((p) => p.number), [1]);
    // No key material: neither the key nor the IV, in hex or base64, appears in the serialised checkpoint.
    const env = decodeEnvelope(oss.getObject(BUCKET, key)!.headers)!;
    const content = await new KeyRing({ default: rsaKeyWrapper({ privateKey: PRIVATE_KEY }) }).unwrap(env.wrapped);
    const text = JSON.stringify(checkpoint);
    for (const secret of [content.key, content.iv]) {
      assert.not.ok(text.includes(toHex(secret)), 'hex');
      assert.not.ok(text.includes(encodeBase64(secret)), 'base64');
    }
    assert.not.ok(text.includes(env.wrapped.wrappedKey), 'not even the wrapped key');
    oss.clearFaults();
    await c.resumableDownload(key, file, { checkpoint });
    assert.equal(new Uint8Array(await readFile(file)), plain);
  });

  s('cancel through an AbortSignal: an Error named cancel with the checkpoint, no output; resume completes it', async () => {
    const c = client(engine.backend);
    const plain = pseudoRandomBytes(6000, 9);
    const key = await putEncrypted(c, plain);
    const { file, cp } = paths();
    const controller = new AbortController();
    const options: DownloadFileOptions = {
      partSize: 1000,
      parallel: 1,
      checkpoint: cp,
      signal: controller.signal,
      progress: (p) => {
        if (p >= 2 / 7) controller.abort();
      },
    };
    const err = await rejects(c.resumableDownload(key, file, options));
    assert.is(err.name, 'cancel');
    assert.is(err.status, 0);
    assert.instance(err, Error);
    assert.equal(err.checkpoint.doneParts.map((p: { number: number }) => p.number), [1, 2]);
    assert.not.ok(await exists(file));
    const since = lastSeq();
    await c.resumableDownload(key, file, { checkpoint: cp, parallel: 2 });
    assert.equal(new Uint8Array(await readFile(file)), plain);
    assert.equal(gets(key, since).map(rangeOf).sort(), expectedRanges(6000, 1000, new Set([3, 4, 5, 6])).sort());

    // Aborted before it starts: nothing is requested.
    const before = lastSeq();
    const early = await rejects(c.resumableDownload(key, paths().file, { signal: AbortSignal.abort() }));
    assert.is(early.name, 'cancel');
    assert.is(lastSeq(), before);
  });

  s('the object replaced during the download: If-Match answers 412 → OBJECT_CHANGED, nothing left behind', async () => {
    const c = client(engine.backend);
    const plain = pseudoRandomBytes(5000, 21);
    const key = await putEncrypted(c, plain);
    const { file, cp } = paths();
    let replaced = false;
    const err = await rejects(
      c.resumableDownload(key, file, {
        partSize: 1000,
        parallel: 1,
        checkpoint: cp,
        progress: async (p) => {
          if (p > 0 && !replaced) {
            replaced = true;
            await c.put(key, Buffer.from(pseudoRandomBytes(5000, 22)));
          }
        },
      }),
    );
    assert.instance(err, IntegrityError);
    assert.is(err.code, 'OBJECT_CHANGED');
    assert.is(err.cause.status, 412, 'the ali-oss 412 is the cause');
    assert.match(err.message, /If-Match/);
    assert.is(gets(key).filter((e) => e.status === 412).length, 1);
    assert.not.ok(await exists(file));
    assert.not.ok(await exists(cp), 'a checkpoint of a replaced object is useless: removed');
    assert.equal(await leftovers(file), []);
  });

  s('the object replaced between attempts: the resume refuses the stale checkpoint (CHECKPOINT_MISMATCH)', async () => {
    const c = client(engine.backend);
    const key = await putEncrypted(c, pseudoRandomBytes(3000, 31));
    const { file, cp } = paths();
    oss.inject({ kind: 'get', key, nth: 2, times: Infinity, status: 503 });
    await rejects(c.resumableDownload(key, file, { partSize: 1000, parallel: 1, checkpoint: cp }));
    oss.clearFaults();
    await c.put(key, Buffer.from(pseudoRandomBytes(3000, 32)));
    const since = lastSeq();
    const err = await rejects(c.resumableDownload(key, file, { checkpoint: cp }));
    assert.instance(err, CheckpointError);
    assert.is(err.code, 'CHECKPOINT_MISMATCH');
    assert.match(err.message, /ETag/);
    assert.match(err.message, /delete the checkpoint/);
    assert.is(gets(key, since).length, 0, 'no part requested');
    assert.not.ok(await exists(file));
  });

  s('a damaged byte or a wrong CRC header → INTEGRITY_CRC64, no output, nothing left behind', async () => {
    const c = client(engine.backend, { endpoint: proxy.endpoint });
    const plain = pseudoRandomBytes(3500, 41);
    const key = await putEncrypted(c, plain);
    for (const damage of ['body', 'header'] as const) {
      const { file, cp } = paths();
      let hits = 0;
      proxy.rewrite = (req, res) => {
        if (damage === 'body' && req.method === 'GET' && req.headers.range === 'bytes=1000-1999') {
          hits++;
          res.body[17] ^= 0x40;
        }
        if (damage === 'header' && req.method === 'HEAD') {
          hits++;
          res.headers['x-oss-hash-crc64ecma'] = (BigInt(res.headers['x-oss-hash-crc64ecma'] as string) ^ 1n).toString();
        }
        return res;
      };
      const err = await rejects(c.resumableDownload(key, file, { partSize: 1000, parallel: 2, checkpoint: cp }));
      assert.is(hits, 1, damage);
      assert.instance(err, IntegrityError);
      assert.is(err.code, 'INTEGRITY_CRC64', damage);
      assert.not.ok(await exists(file), damage);
      assert.not.ok(await exists(cp), damage);
      assert.equal(await leftovers(file), [], damage);
    }
  });

  s('resume re-reads recorded parts: a part damaged on disk is fetched again', async () => {
    const c = client(engine.backend);
    const plain = pseudoRandomBytes(4000, 51);
    const key = await putEncrypted(c, plain);
    const { file, cp } = paths();
    oss.inject({ kind: 'get', key, nth: 4, times: Infinity, status: 503 });
    await rejects(c.resumableDownload(key, file, { partSize: 1000, parallel: 1, checkpoint: cp }));
    const saved = parseDownloadCheckpoint(await readFile(cp, 'utf8'));
    assert.equal(saved.doneParts.map((p) => p.number), [1, 2, 3]);
    const handle = await open(saved.tempPath, 'r+');
    await handle.write(Buffer.from([0xff ^ plain[1500]]), 0, 1, 1500);
    await handle.close();
    oss.clearFaults();
    const since = lastSeq();
    const result = await c.resumableDownload(key, file, { checkpoint: cp });
    assert.equal(new Uint8Array(await readFile(file)), plain);
    assert.equal(gets(key, since).map(rangeOf).sort(), ['bytes=1000-1999', 'bytes=3000-3999']);
    assert.is(result.resumedParts, 2);
  });

  s('bad checkpoints fail before any request: malformed, another part size, temp file gone or resized', async () => {
    const c = client(engine.backend);
    const key = await putEncrypted(c, pseudoRandomBytes(2500, 61));
    const { file, cp } = paths();
    await writeFile(cp, '{ not json');
    let since = lastSeq();
    let err = await rejects(c.resumableDownload(key, file, { checkpoint: cp }));
    assert.instance(err, CheckpointError);
    assert.is(err.code, 'CHECKPOINT_MALFORMED');
    assert.ok(err.message.includes(cp), 'names the file');
    assert.is(lastSeq(), since, 'no request at all');
    await rm(cp);

    oss.inject({ kind: 'get', key, nth: 2, times: Infinity, status: 503 });
    await rejects(c.resumableDownload(key, file, { partSize: 1000, parallel: 1, checkpoint: cp }));
    oss.clearFaults();
    const saved = parseDownloadCheckpoint(await readFile(cp, 'utf8'));
    since = lastSeq();
    err = await rejects(c.resumableDownload(key, file, { checkpoint: cp, partSize: 512 }));
    assert.is(err.code, 'CHECKPOINT_MISMATCH');
    assert.match(err.message, /partSize 512/);
    await writeFile(saved.tempPath, 'short');
    err = await rejects(c.resumableDownload(key, file, { checkpoint: cp }));
    assert.is(err.code, 'CHECKPOINT_MISMATCH');
    assert.match(err.message, /is 5 bytes, the checkpoint expects 2500/);
    await rm(saved.tempPath);
    err = await rejects(c.resumableDownload(key, file, { checkpoint: cp }));
    assert.is(err.code, 'CHECKPOINT_MISMATCH');
    assert.match(err.message, /no longer exists/);
    // The checkpoint was made for another target file: refused rather than renaming someone else's file.
    err = await rejects(c.resumableDownload(key, join(dir, 'elsewhere.bin'), { checkpoint: cp }));
    assert.is(err.code, 'CHECKPOINT_MISMATCH');
    assert.match(err.message, /was not made for/);
    assert.is(gets(key, since).length, 0, 'no part requested by any refused resume');
  });

  s('plain objects: rejected by default (after HEAD only), downloaded as is under plaintext: allow', async () => {
    const plain = pseudoRandomBytes(2100, 71);
    const key = `plain-${++counter}`;
    oss.putObjectRaw(BUCKET, key, plain);
    const { file } = paths();
    const since = lastSeq();
    const err = await rejects(client(engine.backend).resumableDownload(key, file, { partSize: 1000 }));
    assert.instance(err, PlaintextObjectError);
    assert.is(err.code, 'PLAINTEXT_REJECTED');
    assert.equal(oss.log.filter((e) => e.seq > since).map((e) => e.kind), ['head']);
    const result = await client(engine.backend, { plaintext: 'allow' }).resumableDownload(key, file, { partSize: 1000 });
    assert.is(result.encrypted, false);
    assert.equal(new Uint8Array(await readFile(file)), plain);
  });

  s('recorded plaintext length and MD5 are checked: INTEGRITY_LENGTH before any GET, INTEGRITY_MD5 with no output', async () => {
    const ring = new KeyRing({ default: rsaKeyWrapper({ privateKey: PRIVATE_KEY }) });
    const plain = pseudoRandomBytes(3000, 81);
    const store = async (extra: { unencryptedContentLength?: number; unencryptedContentMd5?: string }) => {
      const { content, wrapped } = await ring.createContentKey();
      const key = `recorded-${++counter}`;
      const headers = encodeEnvelope({ format: 'v2', cekAlg: CEK_ALG.ctr, wrapped, ...extra });
      oss.putObjectRaw(BUCKET, key, aesCtrXor(content.key, content.iv, plain, 0, { backend: nativeBackend }), headers);
      return key;
    };
    const c = client(engine.backend);
    const md5 = createHash('md5').update(plain).digest();
    // The right values in both MD5 spellings pass.
    for (const spelling of [md5.toString('hex'), md5.toString('base64')]) {
      const key = await store({ unencryptedContentLength: 3000, unencryptedContentMd5: spelling });
      const { file } = paths();
      await c.resumableDownload(key, file, { partSize: 1000 });
      assert.equal(new Uint8Array(await readFile(file)), plain);
    }
    const badLength = await store({ unencryptedContentLength: 3001 });
    let { file } = paths();
    let since = lastSeq();
    let err = await rejects(c.resumableDownload(badLength, file, { partSize: 1000 }));
    assert.instance(err, IntegrityError);
    assert.is(err.code, 'INTEGRITY_LENGTH');
    assert.is(gets(badLength, since).length, 0);
    const wrongMd5 = Buffer.from(md5);
    wrongMd5[0] ^= 1;
    const badMd5 = await store({ unencryptedContentMd5: wrongMd5.toString('hex') });
    ({ file } = paths());
    since = lastSeq();
    err = await rejects(c.resumableDownload(badMd5, file, { partSize: 1000, checkpoint: `${file}.cp` }));
    assert.is(err.code, 'INTEGRITY_MD5');
    assert.not.ok(await exists(file));
    assert.equal(await leftovers(file), []);
  });

  s('objects written by the official SDKs (single PUT and multipart) download byte-exact', async () => {
    const vectors = interopVectors().filter(
      (v) => v.wrap_alg === 'RSA/NONE/PKCS1Padding' && v.keys.rsa_private_pem_file?.includes('rsaprovider-main') && v.plaintext_length > 60000,
    );
    assert.ok(vectors.length >= 2, `vectors: ${vectors.map((v) => v.name).join(', ')}`);
    const c = client(engine.backend);
    for (const v of vectors) {
      putVector(oss, BUCKET, v);
      const { file } = paths();
      const result = await c.resumableDownload(v.name, file, { partSize: 65536 + 5, parallel: 4 });
      assert.ok((await readFile(file)).equals(plaintextOf(v)), v.name);
      assert.is(result.crc64ecma, oss.getObject(BUCKET, v.name)!.crc64.toString());
    }
  });

  s.run();
}

const args = suite('resumable download: arguments');
args.before(setup);
args.after(teardown);
args('programmer mistakes are TypeError/RangeError naming the argument', async () => {
  const c = client(nativeBackend);
  const cases: Array<[Promise<unknown>, RegExp]> = [
    [c.resumableDownload('', 'x'), /"name" expected a non-empty string/],
    [c.resumableDownload('k', 5 as never), /"filePath" expected a non-empty string, got number/],
    [c.resumableDownload('k', 'x', { partSize: 0 }), /"partSize" expected a positive integer, got 0/],
    [c.resumableDownload('k', 'x', { parallel: 1.5 }), /"parallel" expected a positive integer, got 1.5/],
    [c.resumableDownload('k', 'x', { checkpoint: 7 as never }), /"checkpoint" expected a file path or a download checkpoint object, got number/],
    [c.resumableDownload('k', 'x', { progress: 'no' as never }), /"progress" expected a function/],
  ];
  const since = lastSeq();
  for (const [promise, pattern] of cases) {
    const err = await rejects(promise);
    assert.ok(err instanceof TypeError || err instanceof RangeError, String(err));
    assert.match(err.message, pattern);
  }
  assert.is(lastSeq(), since, 'no request');
});
args('a missing object is ali-oss NoSuchKey, untouched', async () => {
  const err = await rejects(client(nativeBackend).resumableDownload('no-such-object', join(dir, 'nothing.bin')));
  assert.is(err.code, 'NoSuchKey');
  assert.is(err.status, 404);
  assert.not.ok(await exists(join(dir, 'nothing.bin')));
});
args.run();
