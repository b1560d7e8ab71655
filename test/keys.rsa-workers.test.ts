/**
 * nodeRsaWorkerEngine (keys/rsa-workers.ts): node:crypto's private-key operations on worker threads give the same
 * keys as nodeRsaEngine on the calling thread, for both paddings, many at once and spread over the threads; a bad
 * key throws where the wrapper is built; a wrong key is the usual KEY_UNWRAP_FAILED; a closed engine refuses; an idle
 * engine does not keep a process alive; and a client reads real objects through it over HTTP.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { KeyInvalidError, KeyUnwrapError } from '../bindings/errors.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { nodeRsaEngine } from '../bindings/keys/rsa-native.js';
import { nodeRsaWorkerEngine } from '../bindings/keys/rsa-workers.js';
import type { ContentKey } from '../bindings/keys/types.js';
import { fixturePath, pseudoRandomBytes, rejects, throwsCode } from './_util.js';
import type { OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const MAIN = readFileSync(fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.private.pem'), 'utf8');
const OTHER = readFileSync(fixturePath('interop', 'keys', 'rsaprovider-matdesc-rsa3072.private.pem'), 'utf8');

function contentKey(seed: number): ContentKey {
  const bytes = pseudoRandomBytes(48, seed);
  return { key: bytes.slice(0, 32), iv: bytes.slice(32) };
}

const s = suite('nodeRsaWorkerEngine: RSA private operations on worker threads');

s('the same keys as nodeRsaEngine, PKCS#1 and OAEP, 40 unwraps at once over 2 threads', async () => {
  const engine = nodeRsaWorkerEngine({ workers: 2 });
  try {
    for (const padding of ['pkcs1', 'oaep'] as const) {
      const onThread = rsaKeyWrapper({ privateKey: MAIN, padding, engine: nodeRsaEngine });
      const onWorkers = rsaKeyWrapper({ privateKey: MAIN, padding, engine });
      const keys = Array.from({ length: 40 }, (_, i) => contentKey(i + (padding === 'oaep' ? 100 : 0)));
      const wrapped = await Promise.all(keys.map((k) => onThread.wrap(k)));
      const opened = await Promise.all(wrapped.map((w) => onWorkers.unwrap(w)));
      opened.forEach((o, i) => {
        assert.equal(o?.key, keys[i].key, `${padding} key ${i}`);
        assert.equal(o?.iv, keys[i].iv, `${padding} iv ${i}`);
      });
      // And the other way round: what the worker engine's wrapper writes, the calling thread reads.
      const back = await onThread.unwrap(await onWorkers.wrap(keys[0]));
      assert.equal(back?.key, keys[0].key);
    }
    assert.is(engine.workers, 2);
    assert.is(engine.name, 'node-workers');
  } finally {
    await engine.close();
  }
});

s('a bad key throws where the wrapper is built; a wrong key is KEY_UNWRAP_FAILED; a closed engine refuses', async () => {
  const engine = nodeRsaWorkerEngine({ workers: 1 });
  try {
    throwsCode(() => rsaKeyWrapper({ privateKey: MAIN.replace(/[A-Za-z]{8}\n/, 'AAAAAAAA\n'), engine }), KeyInvalidError, 'KEY_INVALID');
    const wrapped = await rsaKeyWrapper({ privateKey: MAIN, engine: nodeRsaEngine }).wrap(contentKey(7));
    await rejects(rsaKeyWrapper({ privateKey: OTHER, engine }).unwrap(wrapped), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
    const reader = rsaKeyWrapper({ privateKey: MAIN, engine });
    assert.equal((await reader.unwrap(wrapped))?.key, contentKey(7).key);
    await engine.close();
    await rejects(reader.unwrap(wrapped), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
  } finally {
    await engine.close();
  }
  assert.throws(() => nodeRsaWorkerEngine({ workers: 0 }), /"workers" expected an integer from 1 to 64, got 0/);
});

s('idle engines that were never closed (one used, one never) do not keep the process alive', () => {
  const script = `
    import { rsaKeyWrapper } from ${JSON.stringify(new URL('../bindings/keys/rsa.ts', import.meta.url).href)};
    import { nodeRsaWorkerEngine } from ${JSON.stringify(new URL('../bindings/keys/rsa-workers.ts', import.meta.url).href)};
    import { readFileSync } from 'node:fs';
    const pem = readFileSync(${JSON.stringify(fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.private.pem'))}, 'utf8');
    const reader = rsaKeyWrapper({ privateKey: pem, engine: nodeRsaWorkerEngine({ workers: 2 }) });
    const opened = await reader.unwrap(await reader.wrap({ key: new Uint8Array(32).fill(1), iv: new Uint8Array(16).fill(2) }));
    // A second engine whose threads never get an operation must not hold the process either.
    rsaKeyWrapper({ privateKey: pem, engine: nodeRsaWorkerEngine({ workers: 2 }) });
    console.log(opened.key[0], opened.iv[0]);
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.is(run.signal, null, 'exited by itself, not killed by the timeout');
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout.trim(), '1 2');
});

s.run();

// ---------------------------------------------------------------------------------------------------------------
const env = { oss: undefined as unknown as OssServer, dir: '' };
const http = suite('nodeRsaWorkerEngine under a CryptoClient (real HTTP)');
useStandIns(http, env, { tmpPrefix: 'oss-crypto-rsa-workers-' });

http('objects written with nodeRsaEngine read back through the worker engine, 24 at once', async () => {
  const engine = nodeRsaWorkerEngine({ workers: 2 });
  try {
    const writer = new CryptoClient(env.oss.client('rsa-workers') as any, { material: rsaKeyWrapper({ privateKey: MAIN, engine: nodeRsaEngine }) });
    const reader = new CryptoClient(env.oss.client('rsa-workers') as any, { material: rsaKeyWrapper({ privateKey: MAIN, engine }) });
    const bodies = Array.from({ length: 24 }, (_, i) => Buffer.from(pseudoRandomBytes(1000 + i, i)));
    await Promise.all(bodies.map((b, i) => writer.put(`o/${i}`, b)));
    const read = await Promise.all(bodies.map((_, i) => reader.get(`o/${i}`)));
    read.forEach((r, i) => assert.ok(Buffer.from(r.content!).equals(bodies[i]), `object ${i}`));
    // The client kept the engine it was given (it did not switch the material to nodeRsaEngine): closed, it fails.
    await engine.close();
    await rejects(reader.get('o/0'), KeyUnwrapError, 'KEY_UNWRAP_FAILED');
  } finally {
    await engine.close();
  }
});

http.run();
