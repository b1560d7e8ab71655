/**
 * A real browser (Debian's headless Chromium driven by playwright-core; never a downloaded browser) runs the
 * core bundle (bindings/core.ts built by test/browser/bundle.ts, WebAssembly embedded) next to ali-oss's browser
 * build, on a page served from one loopback origin while the OSS stand-in listens on another, so every OSS
 * request is cross-origin (preflights, exposed headers).
 *
 * Browser → Node: the page encrypts with the WASM core under a content key that a KeyRing wraps with an RSA
 * public key (PKCS#1 v1.5 through node-forge, and OAEP through the browser's Web Crypto), uploads with ali-oss,
 * and Node reads the object back byte-exact through the CryptoClient (whole and ranged).
 * Node → browser: Node writes with the CryptoClient; the page reads byte ranges (unaligned, one block, the tail)
 * with ali-oss's browser client and decrypts them with the RSA private key, byte-exact.
 *
 * Skips itself, saying why, when /usr/bin/chromium (or $BROWSER_TEST_CHROMIUM) is missing (`apt-get install chromium`).
 * @module
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient, decodeEnvelope, rsaKeyWrapper, type AliOssLike } from '../bindings/index.js';
import { buildCoreBundle } from './browser/bundle.js';
import { startOssServer, TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './support/oss-server.js';
import { pseudoRandomBytes, toHex } from './_util.js';

// Debian's package path; BROWSER_TEST_CHROMIUM overrides it (e.g. to see the skip path).
const CHROMIUM = process.env.BROWSER_TEST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing but loopback resolves, so the page cannot reach the network even by mistake. (Not page.route():
  // playwright answers CORS preflights of routed requests itself, and the point here is the stand-in's CORS.)
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];
const BUCKET = 'browser-bucket';

const test = suite('real browser (headless Chromium): core bundle + ali-oss browser build');

interface Stage {
  oss: OssServer;
  pageServer: Server;
  pageOrigin: string;
  browser: Browser;
  page: Page;
  pageErrors: string[];
  privateKey: string;
  publicKey: string;
  /** What the page needs to build its ali-oss client. */
  ossForPage: { region: string; bucket: string; endpoint: string; accessKeyId: string; accessKeySecret: string };
}

if (!existsSync(CHROMIUM)) {
  const reason = `${CHROMIUM} is missing (install Debian's chromium: apt-get install chromium)`;
  console.log(`\n  browser tests SKIPPED: ${reason}`);
  test.skip(`browser → Node and Node → browser round trips (SKIPPED: ${reason})`, () => {});
} else {
  // Everything is started inside the first test that needs it, not in a hook: uvu ends the whole run when a
  // hook throws, and a broken browser install must fail this file only.
  let staging: Promise<Stage> | undefined;
  const stage = () => (staging ??= startStage());
  const cleanups: (() => Promise<unknown> | unknown)[] = [];

  test.after(async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => {});
  });

  async function startStage(): Promise<Stage> {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const [bundle, oss] = await Promise.all([buildCoreBundle(), startOssServer()]);
    cleanups.push(() => oss.close());
    const files: Record<string, [string, string | Buffer]> = {
      '/': ['text/html', readFileSync(fileURLToPath(new URL('./browser/page.html', import.meta.url)))],
      '/page.js': ['text/javascript', readFileSync(fileURLToPath(new URL('./browser/page.js', import.meta.url)))],
      '/ali-oss-crypto.js': ['text/javascript', bundle.code],
      '/aliyun-oss-sdk.min.js': [
        'text/javascript',
        readFileSync(fileURLToPath(new URL('../node_modules/ali-oss/dist/aliyun-oss-sdk.min.js', import.meta.url))),
      ],
    };
    const pageServer = createServer((req, res) => {
      const file = files[new URL(req.url ?? '/', 'http://x').pathname];
      if (file === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': `${file[0]}; charset=utf-8`, 'cache-control': 'no-store' }).end(file[1]);
    });
    pageServer.listen(0, '127.0.0.1');
    await new Promise((resolve) => pageServer.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => pageServer.close(resolve)));
    const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;

    const { chromium } = await import('playwright-core');
    // playwright gives every launch a fresh temporary profile and removes it on close.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.goto(pageOrigin + '/');
    await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'loading', undefined, { timeout: 10_000 });
    const status = await page.textContent('#status');
    if (status !== 'ready') throw new Error(`the page did not start: ${status}; page errors: ${pageErrors.join(' | ')}`);
    return {
      oss,
      pageServer,
      pageOrigin,
      browser,
      page,
      pageErrors,
      privateKey,
      publicKey,
      ossForPage: {
        region: oss.region,
        bucket: BUCKET,
        endpoint: oss.endpoint,
        accessKeyId: TEST_ACCESS_KEY_ID,
        accessKeySecret: TEST_ACCESS_KEY_SECRET,
      },
    };
  }

  test('the page runs the bundle: WASM core instantiated asynchronously, ali-oss browser build loaded', async () => {
    const s = await stage();
    assert.is(await s.page.evaluate(() => (window as unknown as { pageApi: { backendName(): string } }).pageApi.backendName()), 'wasm');
    assert.is(await s.page.evaluate(() => typeof (window as unknown as { OSS?: unknown }).OSS), 'function');
    assert.not.equal(s.pageOrigin, s.oss.endpoint, 'the page and OSS must be different origins');
    assert.equal(s.pageErrors, []);
  });

  for (const padding of ['pkcs1', 'oaep'] as const) {
    test(`browser encrypts (WASM, RSA ${padding} wrap of a KeyRing key) and uploads cross-origin; Node decrypts byte-exact`, async () => {
      const s = await stage();
      const name = `from-browser/${padding}.bin`;
      const data = pseudoRandomBytes(300_001, padding === 'pkcs1' ? 11 : 12);
      const matdesc = { writer: 'browser', padding };
      s.oss.clearLog();
      const r = await s.page.evaluate(
        (args) => (window as unknown as { pageApi: { encryptAndUpload(a: unknown): Promise<any> } }).pageApi.encryptAndUpload(args),
        { oss: s.ossForPage, name, dataBase64: Buffer.from(data).toString('base64'), publicKeyPem: s.publicKey, padding, matdesc, slice: 4093 },
      );
      assert.is(r.status, 200);
      assert.ok(r.webCrypto, 'a loopback page is a secure context: Web Crypto is there (OAEP goes through it)');

      // CORS was really exercised: the browser asked first, then sent the PUT with our metadata.
      const kinds = s.oss.log.map((e) => e.kind);
      assert.equal(kinds, ['preflight', 'put'], 'a preflight, then the PUT');
      assert.ok(s.oss.log.every((e) => e.headers.origin === s.pageOrigin), 'every OSS request must come from the page origin');
      const stored = s.oss.getObject(BUCKET, name)!;
      assert.ok(stored !== undefined, 'nothing stored');
      assert.is(r.etag, stored.etag, 'the ETag header must be readable by the page (exposed)');
      assert.is(stored.body!.length, data.length);
      assert.is(stored.body!.toString('base64'), r.ciphertextBase64, 'stored bytes are what the page encrypted');
      assert.is.not(toHex(stored.body!.subarray(0, 64)), toHex(data.subarray(0, 64)), 'stored bytes must be ciphertext');

      const env = decodeEnvelope(stored.headers)!;
      assert.equal(env, decodeEnvelope(r.headers));
      assert.is(env.wrapped.wrapAlg, padding === 'pkcs1' ? 'RSA/NONE/PKCS1Padding' : 'RSA/NONE/OAEPWithSHA-1AndMGF1Padding');
      assert.equal(env.wrapped.matdesc, matdesc);
      assert.is(env.unencryptedContentLength, data.length);

      const client = cryptoClient(s, matdesc);
      const whole = await client.get(name);
      assert.ok(whole.encrypted);
      assert.ok(Buffer.from(data).equals(whole.content!), 'Node did not get the plaintext back');
      const ranged = await client.get(name, undefined, { headers: { Range: 'bytes=99999-200016' } });
      assert.ok(Buffer.from(data.subarray(99_999, 200_017)).equals(ranged.content!), 'ranged read differs');
      assert.equal(s.pageErrors, []);
    });
  }

  test('Node writes with the CryptoClient; the browser unwraps on wasmRsaEngine, reads ranges with ali-oss and decrypts them byte-exact', async () => {
    const s = await stage();
    const name = 'from-node/object.bin';
    const data = pseudoRandomBytes(262_151, 21);
    const matdesc = { writer: 'node' };
    const client = cryptoClient(s, matdesc);
    await client.put(name, Buffer.from(data));
    assert.is.not(toHex(s.oss.getObject(BUCKET, name)!.body!.subarray(0, 32)), toHex(data.subarray(0, 32)));

    // Unaligned both ends, one whole block, a block's last byte alone, a span crossing many blocks, the tail.
    const ranges: [number, number][] = [
      [0, 0],
      [1, 16],
      [16, 31],
      [47, 47],
      [12_345, 70_000],
      [data.length - 17, data.length - 1],
    ];
    s.oss.clearLog();
    const out = await s.page.evaluate(
      (args) => (window as unknown as { pageApi: { downloadRangesAndDecrypt(a: unknown): Promise<any[]> } }).pageApi.downloadRangesAndDecrypt(args),
      { oss: s.ossForPage, name, privateKeyPem: s.privateKey, matdesc, ranges },
    );
    assert.is(out.length, ranges.length);
    for (const [i, [start, end]] of ranges.entries()) {
      assert.is(out[i].status, 206, `range ${start}-${end}`);
      assert.is(out[i].contentRange, `bytes ${start}-${end}/${data.length}`, 'Content-Range must be readable by the page');
      assert.is(out[i].plainBase64, Buffer.from(data.subarray(start, end + 1)).toString('base64'), `range ${start}-${end} decrypted wrong`);
    }
    assert.equal(out[0].description.matdesc, matdesc);
    assert.is(out[0].description.keyKind, 'rsa');
    assert.is(out[0].rsaEngine, 'wasm', 'the page unwrapped with the WebAssembly RSA engine');
    // Only ranged GETs reached OSS, never the whole object. (Chromium's HTTP cache may answer part of a range
    // from an earlier response and ask only for the rest, so the count of GETs is not fixed.)
    const gets = s.oss.log.filter((e) => e.kind === 'get');
    assert.ok(gets.length >= ranges.length, `${gets.length} GETs for ${ranges.length} ranges`);
    const asked = gets.map((e) => /^bytes=(\d+)-(\d+)$/.exec(e.headers.range ?? ''));
    assert.ok(asked.every((m) => m !== null), `a GET without a closed range: ${gets.map((e) => e.headers.range).join(', ')}`);
    const bytesAsked = asked.reduce((n, m) => n + Number(m![2]) - Number(m![1]) + 1, 0);
    assert.ok(bytesAsked <= ranges.reduce((n, [a, b]) => n + b - a + 1, 0), `${bytesAsked} bytes asked`);
    assert.equal(s.pageErrors, []);
  });
}

test.run();

/** A Node CryptoClient over the stand-in whose key material is the test's RSA key pair under `matdesc`. */
function cryptoClient(s: Stage, matdesc: Record<string, string>): CryptoClient {
  // @types/ali-oss declares narrower method types than the structural AliOssLike; the instance is the real one.
  return new CryptoClient(s.oss.client(BUCKET) as unknown as AliOssLike, { material: rsaKeyWrapper({ privateKey: s.privateKey, matdesc }) });
}
