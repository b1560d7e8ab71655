/**
 * `oss-crypto rewrap` as child processes against the OSS stand-in over real HTTP (the harness of
 * test/support/bulk-cli.ts), every write counted at the stand-in: a job of 500 small objects and a few multipart
 * ones with --parallel 8 is SIGKILLed mid-way and resumed with its --job journal, and every object is rewrapped by
 * exactly one write (a write whose journal record was lost is found under the new key and skipped), its ciphertext
 * unchanged; --shard 0/3, 1/3, 2/3 as three concurrent processes cover every object once; a concurrent writer wins
 * (skipped-changed); --dry-run writes nothing; usage mistakes of the --to-* flags exit 2.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { OssCryptoError } from '../bindings/errors.js';
import { parseJournal } from '../bindings/jobs/journal.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { fixturePath, pseudoRandomBytes } from './_util.js';
import { bulkCli } from './support/bulk-cli.js';
import type { OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'rewrap-cli-bucket';
const OLD_PUBLIC = fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.public.pem');
const OLD_PRIVATE = fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.private.pem');
const NEW_PUBLIC = fixturePath('interop', 'keys', 'rsaprovider-matdesc-rsa3072.public.pem');
const NEW_PRIVATE = fixturePath('interop', 'keys', 'rsaprovider-matdesc-rsa3072.private.pem');
const NEW_MATDESC = { key: '2025' };
const PART = 100 * 1024;
const env = { oss: undefined as unknown as OssServer, dir: '' };
const { start, cli, writesByKey, readReport } = bulkCli(env, BUCKET);
const TO = ['--rsa-private-key', OLD_PRIVATE, '--to-rsa-public-key', NEW_PUBLIC, '--to-matdesc', JSON.stringify(NEW_MATDESC), '--multipart-threshold', '256KiB'];

const readers = async () => ({
  old: new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey: await readFile(OLD_PRIVATE, 'utf8') }) }),
  fresh: new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey: await readFile(NEW_PRIVATE, 'utf8'), matdesc: NEW_MATDESC }) }),
});

/** Encrypts `count` objects under the old key through the client (multipart at or above 256 KiB); returns bodies and stored ciphertexts. */
async function seedEncrypted(prefix: string, count: number, size: (i: number) => number): Promise<Map<string, { body: Buffer; stored: Buffer }>> {
  const c = new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ publicKey: await readFile(OLD_PUBLIC, 'utf8') }), multipartThreshold: 256 * 1024, partSize: PART });
  const out = new Map<string, { body: Buffer; stored: Buffer }>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}${String(i).padStart(4, '0')}.bin`;
    const body = Buffer.from(pseudoRandomBytes(size(i), i + 7));
    if (body.length >= 256 * 1024) await c.multipartUpload(key, body, { meta: { n: String(i) }, partSize: PART } as any);
    else await c.put(key, body, { meta: { n: String(i) }, headers: { 'Content-Type': 'application/x-test' } });
    out.set(key, { body, stored: Buffer.from(env.oss.getObject(BUCKET, key)!.body!) });
  }
  return out;
}

/** Writes per key since `before` was taken. */
function writesSince(prefix: string, before: Map<string, number>): Map<string, number> {
  return new Map([...writesByKey(prefix)].map(([k, n]) => [k, n - (before.get(k) ?? 0)] as [string, number]).filter(([, n]) => n > 0));
}

/** Every object: ciphertext unchanged, under the new material, read byte-exact by the new key and refused by the old. */
async function assertRewrapped(objects: Map<string, { body: Buffer; stored: Buffer }>): Promise<void> {
  const { old, fresh } = await readers();
  for (const [key, { body, stored }] of objects) {
    const now = env.oss.getObject(BUCKET, key)!;
    assert.ok(Buffer.from(now.body!).equals(stored), `${key}: ciphertext unchanged`);
    assert.equal(decodeEnvelope(now.headers)!.wrapped.matdesc, NEW_MATDESC, key);
    assert.is(now.meta.n, key.match(/(\d+)\.bin$/)![1].replace(/^0+(?=\d)/, ''));
    assert.ok(Buffer.from((await fresh.get(key)).content as Uint8Array).equals(body), key);
    const err = await old.get(key).then(() => undefined, (e) => e);
    assert.ok(err instanceof OssCryptoError && ['KEY_NO_MATCH', 'KEY_UNWRAP_FAILED'].includes(err.code), `${key}: the old key still reads it`);
  }
}

const s = suite('oss-crypto rewrap: killed and resumed, sharded, concurrent writers');
useStandIns(s, env, { tmpPrefix: 'oss-crypto-rewrap-cli-' });

s('500 small + 4 multipart objects, --parallel 8, SIGKILLed mid-way and resumed: each rewrapped by exactly one write', async () => {
  const objects = await seedEncrypted('job/s', 500, (i) => (i * 53) % 4000);
  for (const [k, v] of await seedEncrypted('job/m', 4, (i) => 3 * PART + i * 1000 + 256 * 1024)) objects.set(k, v);
  const before = writesByKey('job/');
  const job = join(env.dir, 'rewrap.job.jsonl');
  const report = join(env.dir, 'rewrap.report.jsonl');
  const argv = ['rewrap', `oss://${BUCKET}/job/`, ...TO, '--parallel', '8', '--job', job, '--report', report];
  env.oss.inject({ kind: 'put', delayMs: 40, times: Infinity });

  const first = start(argv);
  for (let i = 0; i < 3000 && writesSince('job/', before).size < 150; i++) await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGKILL');
  const killed = await first.done;
  assert.is(killed.signal, 'SIGKILL', `the job ended before the kill: ${killed.stderr}`);
  // The crash window: the last journal record lost, as if the process died between the write and the record.
  const text = await readFile(job, 'utf8');
  const lines = text.slice(0, parseJournal(text).validLength).split('\n').filter(Boolean);
  const lost = JSON.parse(lines.pop()!).key as string;
  await writeFile(job, lines.join('\n') + '\n');

  const second = await cli(argv);
  assert.is(second.code, 0, second.stderr);
  env.oss.clearFaults();
  const writes = writesSince('job/', before);
  assert.is(writes.size, objects.size, 'every object written');
  assert.equal([...writes.values()].filter((n) => n !== 1), [], 'no object written twice');
  const entries = await readReport(report);
  const lostEntries = entries.filter((e) => e.key === lost);
  assert.is(lostEntries.at(-1)?.result, 'skipped-already', 'the object whose record was lost is found done');
  assert.ok(entries.every((e) => e.result !== 'failed'), JSON.stringify(entries.find((e) => e.result === 'failed')));
  await assertRewrapped(objects);
  // Idempotent: a fresh run without the journal writes nothing.
  const again = await cli(['rewrap', `oss://${BUCKET}/job/`, ...TO, '--parallel', '8']);
  assert.is(again.code, 0, again.stderr);
  assert.equal(writesSince('job/', before), writes);
});

s('--shard 0/3, 1/3, 2/3 as three concurrent processes: every object rewrapped once', async () => {
  const objects = await seedEncrypted('sharded/', 90, (i) => 40 + i);
  const before = writesByKey('sharded/');
  const runs = await Promise.all([0, 1, 2].map((i) => cli(['rewrap', `oss://${BUCKET}/sharded/`, ...TO, '--shard', `${i}/3`, '--parallel', '4', '--report', join(env.dir, `shard-${i}.jsonl`)])));
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  const reports = await Promise.all([0, 1, 2].map((i) => readReport(join(env.dir, `shard-${i}.jsonl`))));
  const keys = reports.flat().map((e) => e.key).sort();
  assert.equal(keys, [...objects.keys()].sort(), 'the shards together cover every object once');
  assert.ok(reports.every((r) => r.length > 0), 'every shard took some');
  const writes = writesSince('sharded/', before);
  assert.is(writes.size, objects.size);
  assert.ok([...writes.values()].every((n) => n === 1));
  await assertRewrapped(objects);
});

s('a concurrent writer between the read and the write wins: skipped-changed, exit status 0; --dry-run writes nothing', async () => {
  const objects = await seedEncrypted('race/', 4, (i) => 1000 + i);
  const victim = 'race/0002.bin';
  const theirs = Buffer.from('the other writer');
  const dry = await cli(['rewrap', `oss://${BUCKET}/race/`, ...TO, '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout.split('\n').filter(Boolean).sort(), [...objects.keys()].sort());
  const before = writesByKey('race/');
  env.oss.inject({ kind: 'head', key: victim, nth: 1, delayMs: 1500 });
  const mark = env.oss.log.length;
  const running = cli(['rewrap', `oss://${BUCKET}/race/`, ...TO, '--report', join(env.dir, 'race.jsonl')]);
  for (let i = 0; i < 2000 && !env.oss.log.slice(mark).some((e) => e.kind === 'head' && e.key === victim); i++) await new Promise((r) => setTimeout(r, 2));
  env.oss.putObjectRaw(BUCKET, victim, theirs);
  const run = await running;
  assert.is(run.code, 0, run.stderr);
  const entry = (await readReport(join(env.dir, 'race.jsonl'))).find((e) => e.key === victim);
  assert.is(entry?.result, 'skipped-changed');
  assert.equal(env.oss.getObject(BUCKET, victim)!.body, theirs);
  assert.is(writesSince(victim, before).size, 0);
  objects.delete(victim);
  await assertRewrapped(objects);
});

s('usage: exactly one --to-* material; --to-kms-key-id needs KMS settings', async () => {
  const base = ['rewrap', `oss://${BUCKET}/x/`, '--rsa-private-key', OLD_PRIVATE];
  for (const extra of [[], ['--to-rsa-public-key', NEW_PUBLIC, '--to-kms-key-id', 'k'], ['--to-kms-key-id', 'k'], ['--to-rsa-public-key', NEW_PUBLIC, '--to-rsa-padding', 'x']]) {
    const r = await cli([...base, ...extra]);
    assert.is(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error USAGE: /);
  }
  const help = await cli(['rewrap', '--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /--to-rsa-public-key FILE/);
  assert.match(help.stdout, /--job FILE/);
  assert.not.match(help.stdout, /--checkpoint/);
});

s.run();
