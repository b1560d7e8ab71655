/**
 * The pure parts of the bulk-job engine (bindings/jobs/): shards (every key in exactly one shard, stable, spread),
 * the journal format (round trip; any crash-truncated prefix parses to exactly the records whose line was
 * complete; damage is CHECKPOINT_MALFORMED, another job's journal CHECKPOINT_MISMATCH), property-tested with
 * fast-check; and the engine itself over an in-memory action: the parallel cap, the journal leaving finished
 * objects out on resume, failures reported with their code and retried by the next run, dry runs journalling
 * nothing. The engine over HTTP and processes is in test/rotate.cli.test.ts.
 * @module
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CheckpointError } from '../bindings/errors.js';
import type { ActionOutcome, ListedObject, ObjectAction } from '../bindings/jobs/action.js';
import { checkJournalHeader, formatHeader, formatRecord, formatUpload, parseJournal, type JournalRecord } from '../bindings/jobs/journal.js';
import { openJournal } from '../bindings/jobs/journal-file.js';
import { runJob } from '../bindings/jobs/run-job.js';
import type { ReportEntry } from '../bindings/jobs/report.js';
import { formatShard, inShard, parseShard, shardOfKey } from '../bindings/jobs/shard.js';
import { throwsWith } from './_util.js';

const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const record: fc.Arbitrary<JournalRecord> = fc.record(
  {
    key,
    result: fc.constantFrom('changed', 'verified', 'skipped-already', 'skipped-changed'),
    bytes: fc.nat(),
    etag: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }).map((h) => `"${h.toUpperCase()}"`),
  },
  { requiredKeys: ['key', 'result', 'bytes'], noNullPrototype: true },
) as fc.Arbitrary<JournalRecord>;
const HEADER = { action: 'encrypt-existing', bucket: 'b', prefix: 'logs/', shard: '1/3' };

// ---------------------------------------------------------------------------------------------------------------
const shards = suite('jobs/shard: I/N by FNV-1a of the key');

shards('every key belongs to exactly one shard of N, the same one on every call', () => {
  fc.assert(
    fc.property(key, fc.integer({ min: 1, max: 64 }), (k, n) => {
      const s = shardOfKey(k, n);
      assert.ok(Number.isInteger(s) && s >= 0 && s < n);
      assert.is(shardOfKey(k, n), s);
      const owners = Array.from({ length: n }, (_, i) => i).filter((i) => inShard(k, { index: i, count: n }));
      assert.equal(owners, [s]);
    }),
  );
});

shards('known values (so other implementations can be checked against it) and an even spread', () => {
  // FNV-1a 32-bit: '' → 0x811c9dc5, 'a' → 0xe40c292c.
  assert.is(shardOfKey('a', 2 ** 31), 0xe40c292c % 2 ** 31);
  assert.is(shardOfKey('a', 1000), 0xe40c292c % 1000);
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[shardOfKey(`objects/${i}.bin`, 3)]++;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `uneven spread ${counts}`);
});

shards('parseShard accepts I/N with 0 <= I < N and refuses the rest', () => {
  assert.equal(parseShard('0/1'), { index: 0, count: 1 });
  assert.equal(parseShard('2/3'), { index: 2, count: 3 });
  assert.is(formatShard(parseShard('7/8')), '7/8');
  for (const bad of ['3/3', '1/0', '-1/3', '1/3/', 'a/b', '', '1', '01x/3']) throwsWith(() => parseShard(bad), RangeError, /0 <= I < N/);
});

shards.run();

// ---------------------------------------------------------------------------------------------------------------
const journal = suite('jobs/journal: format, crash-truncated tails, damage');

journal('round trip: header and records parse back; a key journalled twice keeps its last record', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 30 }), (records) => {
      const text = formatHeader(HEADER) + records.map(formatRecord).join('');
      const parsed = parseJournal(text);
      assert.equal(parsed.header, HEADER);
      const expected = new Map(records.map((r) => [r.key, r]));
      assert.equal([...parsed.done.entries()].sort(), [...expected.entries()].sort());
      assert.is(parsed.validLength, Buffer.byteLength(text));
    }),
  );
});

journal('a file cut at any byte (a killed writer) gives exactly the records whose whole line survived, never an error', () => {
  fc.assert(
    fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), fc.double({ min: 0, max: 1, noNaN: true }), (records, at) => {
      const lines = [formatHeader(HEADER), ...records.map(formatRecord)];
      const bytes = Buffer.from(lines.join(''));
      const cut = Math.floor(at * bytes.length);
      const parsed = parseJournal(bytes.subarray(0, cut).toString('utf8'));
      let complete = 0;
      let length = 0;
      for (const line of lines) {
        if (length + Buffer.byteLength(line) > cut) break;
        length += Buffer.byteLength(line);
        complete++;
      }
      assert.is(parsed.validLength, length);
      assert.is(parsed.header === undefined, complete === 0);
      const expected = new Map(records.slice(0, Math.max(0, complete - 1)).map((r) => [r.key, r]));
      assert.equal([...parsed.done.entries()].sort(), [...expected.entries()].sort());
    }),
  );
});

journal('a complete line that is not a record is CHECKPOINT_MALFORMED naming its line; another job is CHECKPOINT_MISMATCH', () => {
  const head = formatHeader(HEADER);
  for (const [text, line] of [
    [`${head}{"type":"done","key":"a","result":"failed","bytes":1}\n`, 2],
    [`${head}not json\n`, 2],
    [`${head}{"type":"done","key":"a","result":"changed","bytes":-1}\n`, 2],
    [`{"type":"done","key":"a","result":"changed","bytes":1}\n`, 1],
    [`{"type":"job","version":2,"action":"x","bucket":"b","prefix":""}\n`, 1],
  ] as const) {
    throwsWith(() => parseJournal(text), CheckpointError, new RegExp(`^job journal line ${line} `));
  }
  try {
    checkJournalHeader(HEADER, { ...HEADER, shard: '2/3' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CheckpointError);
    assert.is((err as CheckpointError).code, 'CHECKPOINT_MISMATCH');
    assert.match((err as Error).message, /shard "1\/3", not "2\/3"/);
  }
});

journal('openJournal cuts a torn tail off before appending, and refuses another job’s file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'oss-crypto-jobs-'));
  try {
    const path = join(dir, 'job.jsonl');
    await writeFile(path, `${formatHeader(HEADER)}${formatRecord({ key: 'a', result: 'changed', bytes: 1 })}{"type":"done","ke`);
    const j = await openJournal(path, HEADER);
    assert.equal([...j.done.keys()], ['a']);
    await Promise.all([j.append({ key: 'b', result: 'changed', bytes: 2 }), j.append({ key: 'c', result: 'skipped-already', bytes: 0 })]);
    await j.close();
    assert.equal([...parseJournal(await readFile(path, 'utf8')).done.keys()], ['a', 'b', 'c']);
    try {
      await openJournal(path, { ...HEADER, action: 'verify' });
      assert.unreachable();
    } catch (err) {
      assert.is((err as CheckpointError).code, 'CHECKPOINT_MISMATCH');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

journal('an upload line stays pending until a record of its key follows; pending uploads are abandoned first on resume', async () => {
  const text =
    formatHeader(HEADER) +
    formatUpload('a', 'U1') +
    formatUpload('b', 'U2') +
    formatRecord({ key: 'a', result: 'changed', bytes: 1 }) +
    formatUpload('c', 'U3') +
    formatUpload('c', 'U4');
  const parsed = parseJournal(text);
  assert.equal([...parsed.pendingUploads], [['b', ['U2']], ['c', ['U3', 'U4']]]);
  throwsWith(() => parseJournal(`${formatHeader(HEADER)}{"type":"upload","key":"a"}\n`), CheckpointError, /^job journal line 2 is an upload without/);

  const dir = await mkdtemp(join(tmpdir(), 'oss-crypto-jobs-'));
  try {
    const path = join(dir, 'job.jsonl');
    const header = { ...HEADER, action: 'test-action' };
    await writeFile(path, text.replace('"encrypt-existing"', '"test-action"'));
    const events: string[] = [];
    const action: ObjectAction = {
      name: 'test-action',
      async run(object, { uploadStarted }) {
        events.push(`run ${object.key}`);
        if (object.key === 'k001') await uploadStarted!('U9');
        return { result: 'changed', bytes: 0 };
      },
      async abandon(key, uploadId) {
        events.push(`abandon ${key} ${uploadId}`);
        if (uploadId === 'U3') throw new Error('already gone');
      },
    };
    const j = await openJournal(path, header);
    await runJob({ objects: listing(2), action, parallel: 1, journal: j });
    await j.close();
    assert.equal(events, ['abandon b U2', 'abandon c U3', 'abandon c U4', 'run k000', 'run k001']);
    const after = parseJournal(await readFile(path, 'utf8'));
    assert.equal([...after.pendingUploads.keys()], ['b', 'c']); // abandoned, not re-recorded: harmless to abort again
    assert.ok(!after.pendingUploads.has('k001'), 'k001 finished after its upload line');
    assert.match(await readFile(path, 'utf8'), /"type":"upload","key":"k001","uploadId":"U9"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

journal.run();

// ---------------------------------------------------------------------------------------------------------------
const engine = suite('jobs/run-job: parallel cap, resume, failures, dry run');

async function* listing(n: number): AsyncGenerator<ListedObject> {
  for (let i = 0; i < n; i++) yield { key: `k${String(i).padStart(3, '0')}`, size: i };
}

function countingAction(fail: (key: string) => unknown = () => undefined): ObjectAction & { inFlight: number; peak: number; seen: string[] } {
  const a = {
    name: 'test-action',
    inFlight: 0,
    peak: 0,
    seen: [] as string[],
    async run(object: ListedObject, { dryRun }: { dryRun: boolean }): Promise<ActionOutcome> {
      a.inFlight++;
      a.peak = Math.max(a.peak, a.inFlight);
      a.seen.push(object.key);
      await new Promise((r) => setTimeout(r, 1));
      a.inFlight--;
      const err = fail(object.key);
      if (err) throw err;
      if (dryRun) return { result: 'would-change', bytes: object.size };
      return object.size % 5 === 0 ? { result: 'skipped-changed', bytes: 0 } : { result: 'changed', bytes: object.size };
    },
  };
  return a;
}

engine('runs every object once with at most `parallel` in flight; results add up; failures carry their code and are retried on resume', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'oss-crypto-jobs-'));
  try {
    const path = join(dir, 'job.jsonl');
    const header = { action: 'test-action', bucket: 'b', prefix: '' };
    const failing = new Set(['k007', 'k042']);
    const a = countingAction((k) => (failing.has(k) ? Object.assign(new Error('boom'), { code: 'ECONNRESET' }) : undefined));
    const reports: ReportEntry[] = [];
    const j1 = await openJournal(path, header);
    const first = await runJob({ objects: listing(100), action: a, parallel: 6, journal: j1, report: (e) => void reports.push(e) });
    await j1.close();
    assert.is(a.peak, 6);
    assert.is(a.seen.length, 100);
    assert.is(first.objects, 100);
    assert.is(first.failed, 2);
    assert.is(first.results['skipped-changed'], 20); // the multiples of 5 among 0..99
    assert.is(first.results.changed, 78);
    assert.equal(reports.filter((r) => r.result === 'failed').map((r) => [r.key, r.code]).sort(), [['k007', 'ECONNRESET'], ['k042', 'ECONNRESET']]);
    failing.clear();
    const b = countingAction();
    const j2 = await openJournal(path, header);
    const second = await runJob({ objects: listing(100), action: b, parallel: 6, journal: j2 });
    await j2.close();
    assert.equal(b.seen.sort(), ['k007', 'k042']);
    assert.is(second.resumed, 98);
    assert.is(second.listed, 100);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

engine('a shard sees only its keys; a dry run journals nothing; an aborted signal stops taking objects', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'oss-crypto-jobs-'));
  try {
    const seen: string[][] = [];
    for (let i = 0; i < 3; i++) {
      const a = countingAction();
      await runJob({ objects: listing(90), action: a, parallel: 4, shard: { index: i, count: 3 } });
      seen.push(a.seen);
      for (const k of a.seen) assert.is(shardOfKey(k, 3), i);
    }
    assert.equal(seen.flat().sort(), Array.from({ length: 90 }, (_, i) => `k${String(i).padStart(3, '0')}`));
    const path = join(dir, 'dry.jsonl');
    const j = await openJournal(path, { action: 'test-action', bucket: 'b', prefix: '' });
    const dry = await runJob({ objects: listing(10), action: countingAction(), parallel: 2, dryRun: true, journal: j });
    await j.close();
    assert.is(dry.results['would-change'], 10);
    assert.is(parseJournal(await readFile(path, 'utf8')).done.size, 0);
    const controller = new AbortController();
    const a = countingAction((k) => (k === 'k003' ? (controller.abort(), undefined) : undefined));
    const stopped = await runJob({ objects: listing(1000), action: a, parallel: 2, signal: controller.signal });
    assert.ok(stopped.interrupted);
    assert.ok(a.seen.length < 10, `took ${a.seen.length} objects after the abort`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

engine.run();
