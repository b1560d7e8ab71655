/**
 * The CLI's progress bar: one line on stderr, redrawn in place, only when stderr is a terminal and `--quiet`
 * was not given (a pipe or a log file gets nothing, so scripts see clean output).
 *
 * It consumes ali-oss-style `progress(p, checkpoint, res)` callbacks, where `p` is a fraction in [0, 1].
 * @module
 */

/**
 * Where the bar is drawn: a writable with an optional `isTTY` and `columns` (process.stderr fits).
 * @example
 *   const sink: ProgressSink = process.stderr;
 */
export interface ProgressSink {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/**
 * A progress line; all methods are no-ops when it is disabled.
 * @example
 *   const bar: ProgressBar = progressBar(process.stderr, 'put', false);
 *   bar.total(1 << 20);
 *   bar.update(0.5);
 *   bar.done();
 */
export interface ProgressBar {
  /**
   * An ali-oss `progress` callback: draws `p` (0..1). A checkpoint with a `totalSize` (downloads) gives the total
   * when {@link ProgressBar.total} was not told it.
   */
  readonly update: (p: number, checkpoint?: unknown) => void;
  /** The transfer's size in bytes, when known: the line then shows bytes, rate and ETA. */
  total(bytes: number): void;
  /** Erases the line (call before printing anything else, and at the end). */
  done(): void;
}

const REDRAW_MS = 100;

/**
 * A progress line for `label` on `sink` (`label [####....]  45%  12.0 MiB / 26.7 MiB  3.1 MiB/s  ETA 0:05`), or a
 * silent one when `sink` is not a terminal or `quiet` is set.
 * @param now the clock, in milliseconds (tests pass their own)
 * @example
 *   const bar = progressBar(process.stderr, 'get oss://b/k', cmd.quiet);
 *   await client.resumableDownload(name, file, { progress: bar.update });
 *   bar.done();
 */
export function progressBar(sink: ProgressSink, label: string, quiet: boolean, now: () => number = Date.now): ProgressBar {
  if (quiet || sink.isTTY !== true) return { update: () => undefined, total: () => undefined, done: () => undefined };
  const started = now();
  let last = -Infinity;
  let drawn = false;
  let totalBytes: number | undefined;
  return {
    update: (p: number, checkpoint?: unknown) => {
      const size = (checkpoint as { totalSize?: unknown } | null | undefined)?.totalSize;
      if (totalBytes === undefined && typeof size === 'number' && Number.isSafeInteger(size)) totalBytes = size;
      const t = now();
      const fraction = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
      if (fraction < 1 && t - last < REDRAW_MS) return;
      last = t;
      let stats = '';
      if (totalBytes !== undefined) {
        const bytes = Math.round(fraction * totalBytes);
        const seconds = (t - started) / 1000;
        const rate = seconds > 0 ? bytes / seconds : 0;
        // No rate before the first bytes: an ETA from nothing would be a guess.
        const eta = rate > 0 ? formatDuration((totalBytes - bytes) / rate) : '--:--';
        stats = `  ${formatBytes(bytes)} / ${formatBytes(totalBytes)}  ${rate > 0 ? `${formatBytes(rate)}/s` : '-- B/s'}  ETA ${eta}`;
      }
      const w = Math.max(10, Math.min(30, (sink.columns ?? 80) - label.length - stats.length - 10));
      const filled = Math.round(fraction * w);
      sink.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%${stats}`);
      drawn = true;
    },
    total: (bytes: number) => {
      totalBytes = bytes;
    },
    done: () => {
      if (drawn) sink.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/**
 * Bytes with a binary unit and one decimal: `512 B`, `1.5 KiB`, `12.0 MiB`.
 * @example
 *   formatBytes(1536) // '1.5 KiB'
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Seconds as `m:ss`, or `h:mm:ss` from an hour.
 * @example
 *   formatDuration(65) // '1:05'
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
