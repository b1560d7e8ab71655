/**
 * The bulk commands as child processes (`oss-crypto encrypt-existing` / `verify` from source) against the OSS
 * stand-in over real HTTP, every write counted at the stand-in: a job of 500 small objects and a few multipart ones
 * with --parallel 8 is SIGKILLed mid-way and resumed with its --job journal, and every object ends up encrypted by
 * exactly one write (including the crash window: a write whose journal record was lost is found already encrypted
 * and skipped); --shard 0/3, 1/3, 2/3 run as three concurrent processes cover every object once; a concurrent writer
 * between the read and the write wins and is reported skipped-changed with exit status 0; verify reports a tampered
 * object and a plaintext one by code; --dry-run lists and writes nothing.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CryptoClient } from '../bindings/client/crypto-client.js';
import { decodeEnvelope } from '../bindings/envelope/codec.js';
import { parseJournal } from '../bindings/jobs/journal.js';
import { rsaKeyWrapper } from '../bindings/keys/rsa.js';
import { parseCliArgs } from '../bindings/cli/args.js';
import { formatProgress } from '../bindings/cli/bulk-run.js';
import { runCli } from '../bindings/cli/run.js';
import { fixturePath, pseudoRandomBytes } from './_util.js';
import { bulkCli } from './support/bulk-cli.js';
import { TEST_ACCESS_KEY_ID, TEST_ACCESS_KEY_SECRET, type OssServer } from './support/oss-server.js';
import { useStandIns } from './support/stand-ins.js';

const BUCKET = 'bulk-bucket';
const PUBLIC = fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.public.pem');
const PRIVATE = fixturePath('interop', 'keys', 'rsaprovider-main-rsa2048.private.pem');
const PART = 100 * 1024;
const SIZES = ['--multipart-threshold', '256KiB', '--part-size', '100KiB'];
const env = { oss: undefined as unknown as OssServer, dir: '' };
const { start, cli, seed, writesByKey, readReport } = bulkCli(env, BUCKET);

async function assertDecrypts(bodies: Map<string, Buffer>): Promise<void> {
  const client = new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey: await readFile(PRIVATE, 'utf8') }) });
  for (const [key, body] of bodies) {
    const stored = env.oss.getObject(BUCKET, key)!;
    assert.ok(decodeEnvelope(stored.headers) !== null, `${key} is not encrypted`);
    assert.is(stored.meta.n, key.match(/(\d+)\.bin$/)![1].replace(/^0+(?=\d)/, ''));
    assert.is(stored.contentType, 'application/x-test');
    assert.equal((await client.get(key)).content, body, key);
  }
}

// ---------------------------------------------------------------------------------------------------------------
const kill = suite('encrypt-existing: SIGKILLed mid-way, resumed with --job: every object encrypted by exactly one write');
useStandIns(kill, env, { tmpPrefix: 'oss-crypto-bulk-' });

kill('500 small + 5 multipart objects, --parallel 8, killed after ~150 writes (one multipart upload cut), resumed twice', async () => {
  const small = seed('big-job/s', 500, (i) => 100 + ((i * 37) % 3000));
  const large = seed('big-job/m', 4, (i) => 3 * PART + i * 1000);
  // A multipart rewrite that the kill is sure to cut: its Complete is held long past the kill.
  const cut = 'big-job/a-cut-0.bin';
  const cutBody = Buffer.from(pseudoRandomBytes(3 * PART, 99));
  env.oss.putObjectRaw(BUCKET, cut, cutBody, { 'Content-Type': 'application/x-test', 'x-oss-meta-n': '0' });
  large.set(cut, cutBody);
  env.oss.inject({ kind: 'complete', key: cut, delayMs: 8000 });
  env.oss.putObjectRaw(BUCKET, 'big-jobx/outside.bin', Buffer.from('not under the prefix'));
  const bodies = new Map([...small, ...large]);
  const job = join(env.dir, 'big.job.jsonl');
  const report = join(env.dir, 'big.report.jsonl');
  const argv = ['encrypt-existing', `oss://${BUCKET}/big-job/`, '--rsa-public-key', PUBLIC, '--parallel', '8', '--job', job, '--report', report, ...SIZES];
  // Slow each write a little so that the kill lands mid-way, whatever the machine.
  env.oss.inject({ kind: 'put', delayMs: 40, times: Infinity });

  const first = start(argv);
  for (let i = 0; i < 3000 && [...writesByKey('big-job/').values()].length < 150; i++) await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGKILL');
  const killed = await first.done;
  assert.is(killed.signal, 'SIGKILL', `the job ended before the kill: ${killed.stderr}`);
  const afterKill = parseJournal(await readFile(job, 'utf8'));
  assert.ok(afterKill.done.size >= 100 && afterKill.done.size < 505, `journal holds ${afterKill.done.size} objects`);
  const orphans = afterKill.pendingUploads.get(cut) ?? [];
  assert.is(orphans.length, 1, 'the cut upload was journalled before its parts');

  // The crash window, made certain: drop the journal's last record, as if the process died after that object's
  // write but before its record reached the disk. The resumed job must find it encrypted and skip it.
  const text = await readFile(job, 'utf8');
  const lines = text.slice(0, parseJournal(text).validLength).split('\n').filter(Boolean);
  const lost = JSON.parse(lines.pop()!).key as string;
  await writeFile(job, `${lines.join('\n')}\n`);

  const second = await cli(argv);
  assert.is(second.code, 0, second.stderr);
  const third = await cli(argv);
  assert.is(third.code, 0, third.stderr);
  assert.match(third.stderr, /: 0 objects \(none\), 505 done by earlier runs/);
  // The resumed run aborted the upload the kill cut off (unless the held Complete landed after all).
  assert.ok(env.oss.log.some((e) => e.kind === 'abort' && e.uploadId === orphans[0]) || env.oss.log.some((e) => e.kind === 'complete' && e.uploadId === orphans[0] && e.status === 200));

  const writes = writesByKey('big-job/');
  assert.equal([...bodies.keys()].filter((k) => writes.get(k) !== 1).map((k) => `${k}: ${writes.get(k) ?? 0} writes`), []);
  assert.is(writes.size, 505);
  assert.equal(env.oss.getObject(BUCKET, 'big-jobx/outside.bin')!.body, Buffer.from('not under the prefix'));
  for (const key of large.keys()) assert.is(env.oss.getObject(BUCKET, key)!.type, 'Multipart');
  assert.equal(env.oss.uploads(BUCKET), [], 'no multipart upload is left behind');
  await assertDecrypts(bodies);

  const entries = await readReport(report);
  const lostEntries = entries.filter((e) => e.key === lost).map((e) => e.result);
  // Its first run's report line may have died with the process (the report is written after the journal).
  assert.is(lostEntries.at(-1), 'skipped-already');
  assert.ok(lostEntries.filter((r) => r === 'changed').length <= 1);
  const final = parseJournal(await readFile(job, 'utf8'));
  assert.is(final.done.size, 505);
  assert.is(final.pendingUploads.size, 0);
  assert.ok(entries.every((e) => e.result !== 'failed'), JSON.stringify(entries.filter((e) => e.result === 'failed')));
});

kill.run();

// ---------------------------------------------------------------------------------------------------------------
const shards = suite('encrypt-existing --shard 0/3, 1/3, 2/3 as three concurrent processes: every object once');
useStandIns(shards, env, { tmpPrefix: 'oss-crypto-bulk-' });

shards('the union of the three shards is every object, each written once, none twice', async () => {
  const bodies = seed('sharded/', 120, (i) => 50 + i);
  const runs = await Promise.all(
    [0, 1, 2].map((i) => cli(['encrypt-existing', `oss://${BUCKET}/sharded/`, '--rsa-public-key', PUBLIC, '--shard', `${i}/3`, '--parallel', '4', '--report', join(env.dir, `shard-${i}.jsonl`)])),
  );
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  const reports = await Promise.all([0, 1, 2].map((i) => readReport(join(env.dir, `shard-${i}.jsonl`))));
  for (const r of reports) assert.ok(r.length > 20, `a shard took only ${r.length} objects`);
  const keys = reports.flat().map((e) => e.key);
  assert.equal([...keys].sort(), [...bodies.keys()].sort());
  assert.ok(reports.flat().every((e) => e.result === 'changed'));
  const writes = writesByKey('sharded/');
  assert.ok([...writes.values()].every((n) => n === 1) && writes.size === 120);
  await assertDecrypts(bodies);
});

shards.run();

// ---------------------------------------------------------------------------------------------------------------
const race = suite('concurrent writers, verify, dry run');
useStandIns(race, env, { tmpPrefix: 'oss-crypto-bulk-' });

race('a writer that replaces an object between the read and the write wins: skipped-changed, exit 0, its object kept', async () => {
  const bodies = seed('race/', 6, (i) => 1000 + i);
  const victim = 'race/0003.bin';
  const theirs = Buffer.from('written by someone else meanwhile');
  env.oss.inject({ kind: 'head', key: victim, nth: 1, delayMs: 1500 });
  const mark = env.oss.log.length;
  const running = cli(['encrypt-existing', `oss://${BUCKET}/race/`, '--rsa-public-key', PUBLIC, '--report', join(env.dir, 'race.jsonl')]);
  let swapped = false;
  for (let i = 0; i < 3000 && !swapped; i++) {
    if (env.oss.log.slice(mark).some((e) => e.kind === 'head' && e.key === victim)) {
      env.oss.putObjectRaw(BUCKET, victim, theirs);
      swapped = true;
    } else await new Promise((r) => setTimeout(r, 2));
  }
  const run = await running;
  assert.ok(swapped);
  assert.is(run.code, 0, run.stderr);
  const entries = await readReport(join(env.dir, 'race.jsonl'));
  assert.is(entries.find((e) => e.key === victim)!.result, 'skipped-changed');
  assert.is(entries.filter((e) => e.result === 'changed').length, 5);
  assert.equal(env.oss.getObject(BUCKET, victim)!.body, theirs);
  assert.is(writesByKey(victim).size, 0);
  bodies.delete(victim);
  await assertDecrypts(bodies);
});

race('verify reports a tampered object and a plaintext one by code (exit 1); --dry-run lists the plaintext one and writes nothing', async () => {
  const client = new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey: await readFile(PRIVATE, 'utf8') }) });
  for (let i = 0; i < 4; i++) await client.put(`check/${i}.bin`, Buffer.from(`object ${i} content`), { contentMd5: true });
  const stored = env.oss.getObject(BUCKET, 'check/2.bin')!;
  const tampered = Buffer.from(stored.body!);
  tampered[3] ^= 0x20;
  env.oss.putObjectRaw(BUCKET, 'check/2.bin', tampered, Object.fromEntries(Object.entries(stored.headers).filter(([k]) => k.startsWith('x-oss-meta-'))));
  env.oss.putObjectRaw(BUCKET, 'check/plain.txt', Buffer.from('never encrypted'));

  const report = join(env.dir, 'verify.jsonl');
  const run = await cli(['verify', `oss://${BUCKET}/check/`, '--rsa-private-key', PRIVATE, '--report', report]);
  assert.is(run.code, 1);
  assert.match(run.stderr, /failed "check\/2.bin": INTEGRITY_MD5 /);
  assert.match(run.stderr, /^error OBJECTS_FAILED: 2 of 5 objects failed/m);
  const entries = await readReport(report);
  const byKey = Object.fromEntries(entries.map((e) => [e.key, [e.result, e.code ?? null]]));
  assert.equal(byKey, {
    'check/0.bin': ['verified', null],
    'check/1.bin': ['verified', null],
    'check/2.bin': ['failed', 'INTEGRITY_MD5'],
    'check/3.bin': ['verified', null],
    'check/plain.txt': ['failed', 'PLAINTEXT_REJECTED'],
  });

  const mark = env.oss.log.length;
  const dry = await cli(['encrypt-existing', `oss://${BUCKET}/check/`, '--rsa-public-key', PUBLIC, '--dry-run', '--job', join(env.dir, 'dry.jsonl')]);
  assert.is(dry.code, 0, dry.stderr);
  assert.is(dry.stdout, 'check/plain.txt\n');
  assert.equal(env.oss.log.slice(mark).filter((e) => e.method !== 'GET' && e.method !== 'HEAD'), []);
  assert.equal(env.oss.log.slice(mark).filter((e) => e.kind === 'get'), []);
});

race('decrypt-existing: refused without --remove-encryption; with it, every encrypted object stored decrypted, metadata kept, plaintext skipped', async () => {
  const client = new CryptoClient(env.oss.client(BUCKET) as any, { material: rsaKeyWrapper({ privateKey: await readFile(PRIVATE, 'utf8') }) });
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < 6; i++) {
    const key = `leave/${i}.bin`;
    const body = Buffer.from(pseudoRandomBytes(i === 5 ? 3 * PART + 17 : 1000 + i, 40 + i));
    bodies.set(key, body);
    if (body.length > PART) await client.multipartUpload(key, body, { partSize: PART, meta: { n: String(i) } } as any);
    else await client.put(key, body, { meta: { n: String(i) }, headers: { 'Content-Type': 'text/plain' } });
  }
  env.oss.putObjectRaw(BUCKET, 'leave/plain.txt', Buffer.from('never encrypted'));

  const mark = env.oss.log.length;
  const refused = await cli(['decrypt-existing', `oss://${BUCKET}/leave/`, '--rsa-private-key', PRIVATE]);
  assert.is(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--remove-encryption/);
  assert.is(env.oss.log.length, mark, 'no request without the flag');

  const dry = await cli(['decrypt-existing', `oss://${BUCKET}/leave/`, '--rsa-private-key', PRIVATE, '--remove-encryption', '--dry-run']);
  assert.is(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout.trim().split('\n').sort(), [...bodies.keys()].sort());

  const report = join(env.dir, 'leave.jsonl');
  const run = await cli(['decrypt-existing', `oss://${BUCKET}/leave/`, '--rsa-private-key', PRIVATE, '--remove-encryption', ...SIZES, '--report', report]);
  assert.is(run.code, 0, run.stderr);
  for (const [key, body] of bodies) {
    const stored = env.oss.getObject(BUCKET, key)!;
    assert.ok(Buffer.from(stored.body!).equals(body), `${key} stored in plaintext`);
    assert.is(decodeEnvelope(stored.headers), null, `${key} has no encryption metadata left`);
    assert.is(stored.meta.n, key.match(/(\d)\.bin$/)![1]);
  }
  assert.is(env.oss.getObject(BUCKET, 'leave/0.bin')!.headers['content-type'], 'text/plain');
  const results = Object.fromEntries((await readReport(report)).map((e) => [e.key, e.result]));
  assert.is(results['leave/plain.txt'], 'skipped-already');
  assert.equal(Object.keys(results).filter((k) => results[k] === 'changed').sort(), [...bodies.keys()].sort());
});

race.run();

// ---------------------------------------------------------------------------------------------------------------
const parsing = suite('bulk commands: parsing, the progress line, SIGTERM');
useStandIns(parsing, env, { tmpPrefix: 'oss-crypto-bulk-' });

const ENV = { OSS_ACCESS_KEY_ID: 'id', OSS_ACCESS_KEY_SECRET: 'secret', OSS_ENDPOINT: 'http://127.0.0.1:9' };

parsing('flags parse into one command; mistakes are usage errors naming the flag', () => {
  const cmd = parseCliArgs(['encrypt-existing', 'oss://bkt/', '--rsa-public-key', 'k.pem', '--shard', '2/5', '--parallel', '32', '--job', 'j', '--report', 'r', '--dry-run', '--part-size', '1MiB'], ENV);
  assert.equal(
    cmd.command === 'encrypt-existing' && [cmd.target, cmd.shard, cmd.parallel, cmd.job, cmd.report, cmd.dryRun, cmd.partSize],
    [{ bucket: 'bkt', prefix: '' }, { index: 2, count: 5 }, 32, 'j', 'r', true, 1024 * 1024],
  );
  const verify = parseCliArgs(['verify', 'oss://bkt/logs/2024/', '--rsa-private-key', 'k.pem'], ENV);
  assert.equal(verify.command === 'verify' && [verify.target.prefix, verify.parallel, verify.shard], ['logs/2024/', 8, undefined]);
  // RSA private operations go to worker threads in bulk jobs when there is a core to spare; a single command, or
  // an explicit --rsa-engine, keeps the calling thread.
  assert.is(verify.keys.rsaEngine, availableParallelism() > 1 ? 'workers' : 'node');
  assert.is(parseCliArgs(['verify', 'oss://bkt/', '--rsa-private-key', 'k.pem', '--rsa-engine', 'node'], ENV).keys.rsaEngine, 'node');
  assert.is(parseCliArgs(['get', 'oss://bkt/k', 'out', '--rsa-private-key', 'k.pem'], ENV).keys.rsaEngine, 'node');
  for (const [argv, message] of [
    [['verify', 'oss://bkt/', '--rsa-private-key', 'k', '--shard', '3/3'], /--shard .*0 <= I < N/],
    [['verify', 'oss://bkt/', '--rsa-private-key', 'k', '--parallel', '0'], /--parallel expected 1..256/],
    [['encrypt-existing', 'oss://bkt/'], /encrypt-existing needs a key that can encrypt/],
    [['verify', 'oss://bkt/', '--rsa-public-key', 'k'], /verify needs a key that can decrypt/],
    [['verify', 'oss://bkt/', '--rsa-private-key', 'k', '--part-size', '1MiB'], /--part-size is not an option of "verify"/],
    [['head', 'oss://bkt/k', '--shard', '0/2'], /--shard is not an option of "head"/],
    [['verify', 'oss://B/', '--rsa-private-key', 'k'], /not a valid OSS bucket name/],
  ] as const) {
    try {
      parseCliArgs(argv, ENV);
      assert.unreachable(`accepted ${argv.join(' ')}`);
    } catch (err) {
      assert.is((err as { code?: string }).code, 'USAGE', String(err));
      assert.match((err as Error).message, message);
    }
  }
});

parsing('the progress line: objects, bytes, rate and an ETA once the listing is done; drawn on a terminal only', async () => {
  const p = { objects: 50, bytes: 50 * 1024 * 1024, listed: 200, resumed: 50, listingDone: true, failed: 1, elapsedMs: 10_000 };
  assert.is(formatProgress('verify oss://b/', p), 'verify oss://b/: 50/150 objects, 50.0 MiB, 5.0 objects/s, 5.0 MiB/s, 1 failed, ETA 20s');
  assert.is(formatProgress('v', { ...p, listingDone: false, failed: 0 }), 'v: 50/150+ objects, 50.0 MiB, 5.0 objects/s, 5.0 MiB/s');
  seed('tty/', 30, (i) => 100 + i);
  env.oss.inject({ kind: 'put', delayMs: 20, times: Infinity });
  for (const isTTY of [true, false]) {
    let stderr = '';
    const code = await runCli({
      argv: ['encrypt-existing', `oss://${BUCKET}/tty/`, '--rsa-public-key', PUBLIC, '--parallel', '2'],
      env: { OSS_ENDPOINT: env.oss.endpoint, OSS_REGION: env.oss.region, OSS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET: TEST_ACCESS_KEY_SECRET },
      stdin: process.stdin,
      stdout: { write: () => true } as never,
      stderr: { isTTY, columns: 120, write: (t: string) => ((stderr += t), true) } as never,
    });
    assert.is(code, 0, stderr);
    assert.is(/\r\x1b\[2K[^\r]*objects\/s/.test(stderr), isTTY, `isTTY ${isTTY}: ${JSON.stringify(stderr.slice(0, 300))}`);
    assert.match(stderr, isTTY ? /30 changed/ : /0 objects \(none\), 30 done|30 skipped-already/);
  }
});

parsing('SIGTERM stops the job: exit 1 with CANCELLED; the same --job resumes, every object written once', async () => {
  const bodies = seed('term/', 80, (i) => 200 + i);
  const job = join(env.dir, 'term.jsonl');
  const argv = ['encrypt-existing', `oss://${BUCKET}/term/`, '--rsa-public-key', PUBLIC, '--parallel', '4', '--job', job];
  env.oss.inject({ kind: 'put', delayMs: 80, times: Infinity });
  const first = start(argv);
  for (let i = 0; i < 3000 && writesByKey('term/').size < 20; i++) await new Promise((r) => setTimeout(r, 5));
  first.child.kill('SIGTERM');
  const stopped = await first.done;
  assert.is(stopped.code, 1, stopped.stderr);
  assert.match(stopped.stderr, /^error CANCELLED: interrupted after \d+ objects; run the same command with --job .* to resume$/m);
  const journalled = parseJournal(await readFile(job, 'utf8')).done.size;
  assert.ok(journalled >= 20 && journalled < 80, `journal holds ${journalled}`);
  const second = await cli(argv);
  assert.is(second.code, 0, second.stderr);
  const writes = writesByKey('term/');
  assert.ok(writes.size === 80 && [...writes.values()].every((n) => n === 1), JSON.stringify([...writes]));
  await assertDecrypts(bodies);
});

parsing.run();
