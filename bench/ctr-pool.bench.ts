/**
 * AES-256-CTR on worker threads (`npm run bench:ctr-pool [-- --parts N] [--part-size BYTES]`): decrypting N parts
 * (default 32 × 4 MiB) on the main thread with the WASM core, against the same parts sent to a
 * `createCtrPool` of 1, 2 and 4 workers (WASM in each), all parts submitted at once as a parallel download would.
 * Cross-validated first (each pool size's output equals the main thread's). MB/s is 10^6 bytes per second of
 * wall time, best of 3 rounds; the ratio is against the main thread in the same run. The main thread's own CPU
 * time per MB shows what the pool frees for socket work.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { aesCtrXor } from '../bindings/cipher/aes-ctr.js';
import { createCtrPool } from '../bindings/cipher/worker-pool.js';
import { flagValue, formatSize, formatTable, machine } from './_util.js';

const argv = process.argv.slice(2);
const parts = Number(flagValue(argv, '--parts') ?? 32);
const partSize = Number(flagValue(argv, '--part-size') ?? 4 << 20);
const key = randomFillSync(new Uint8Array(32));
const iv = randomFillSync(new Uint8Array(16));
const source = Array.from({ length: parts }, () => randomFillSync(new Uint8Array(partSize)));
const total = parts * partSize;

console.log(`bench:ctr-pool  node ${machine().node}  ${machine().cpu}  availableParallelism ${availableParallelism()}`);
console.log(`${parts} parts × ${formatSize(partSize)}, best of 3 rounds\n`);

const reference = source.map((p, i) => aesCtrXor(key, iv, p, i * partSize));
const contenders: Array<{ name: string; workers: number }> = [{ name: 'main thread (wasm)', workers: 0 }, ...[1, 2, 4].map((w) => ({ name: `pool, ${w} worker${w > 1 ? 's' : ''}`, workers: w }))];
const rows: string[][] = [];
let mainRate = 0;
for (const c of contenders) {
  const pool = c.workers > 0 ? createCtrPool({ workers: c.workers }) : undefined;
  const run = async (): Promise<Uint8Array[]> =>
    pool === undefined
      ? source.map((p, i) => aesCtrXor(key, iv, p, i * partSize))
      : Promise.all(source.map((p, i) => pool.xorAt(key, iv, i * partSize, new Uint8Array(p))));
  const check = await run();
  check.forEach((p, i) => {
    if (Buffer.compare(p, reference[i]) !== 0) throw new Error(`cross-validation failed: ${c.name} part ${i}`);
  });
  let best = 0;
  let bestCpu = Infinity;
  for (let r = 0; r < 3; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    best = Math.max(best, total / 1e6 / seconds);
    // process.cpuUsage counts every thread of the process, workers included.
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1000 / (total / 1e6));
  }
  await pool?.close();
  if (c.workers === 0) mainRate = best;
  rows.push([c.name, best.toFixed(0), (best / mainRate).toFixed(2), bestCpu.toFixed(2)]);
}
console.log('cross-validation: every pool size gives the main thread\'s bytes\n');
console.log(formatTable(['decrypt', 'MB/s', 'vs main thread', 'process CPU ms/MB (all threads)'], rows));
