/**
 * The test entry point (`npm test`): runs every `test/**\/*.test.ts` file through uvu in one process and ends
 * with the plain line `N passed, N failed, N skipped` that CI reads.
 *
 * uvu prints its own totals ("Total / Passed / Skipped"); we read them off its output rather than re-count,
 * and count a file that fails to load as one failure (uvu would otherwise never see its tests).
 * Usage: `node --import tsx test/run.ts [--only SUBSTRING]...`
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)));
const only = flagValues('--only');
const files = findTests(root).filter((f) => only.length === 0 || only.some((o) => relative(root, f).includes(o)));

// uvu buffers nothing: capture what it writes so the totals can be turned into CI's closing line.
let captured = '';
const realWrite = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
  if (captured.length > 100_000) captured = captured.slice(-10_000);
  return (realWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

// A hung test must not hold CI for its whole budget.
const watchdogMinutes = Number(process.env.TEST_TIMEOUT_MINUTES ?? 30);
setTimeout(() => {
  console.error(`\ntest run exceeded ${watchdogMinutes} minutes; aborting`);
  realWrite(`0 passed, 1 failed\n`);
  process.exit(1);
}, watchdogMinutes * 60_000).unref();

(globalThis as Record<string, unknown>).UVU_DEFER = 1;
const uvu = await import('uvu');
const queue = (globalThis as unknown as { UVU_QUEUE: unknown[][] }).UVU_QUEUE;

let loadFailures = 0;
for (const [index, file] of files.entries()) {
  (globalThis as Record<string, unknown>).UVU_INDEX = index;
  queue.push([relative(root, file)]);
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    loadFailures++;
    console.error(`\nFAIL to load ${relative(root, file)}:\n${(err as Error)?.stack ?? err}\n`);
  }
}

await uvu.exec(false);

const plain = captured.replace(/\x1b\[[0-9;]*m/g, '');
const total = lastNumber(plain, /Total:\s+(\d+)/g);
const passed = lastNumber(plain, /Passed:\s+(\d+)/g);
const skipped = lastNumber(plain, /Skipped:\s+(\d+)/g);
const failed = total - passed + loadFailures;
realWrite(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;

function lastNumber(text: string, pattern: RegExp): number {
  let value = 0;
  for (const m of text.matchAll(pattern)) value = Number(m[1]);
  return value;
}

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function flagValues(flag: string): string[] {
  const values: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag && argv[i + 1] !== undefined) values.push(argv[++i]);
    else if (argv[i].startsWith(flag + '=')) values.push(argv[i].slice(flag.length + 1));
  }
  return values;
}
