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
 * A progress bar; all methods are no-ops when it is disabled.
 * @example
 *   const bar: ProgressBar = progressBar(process.stderr, 'put', false);
 *   bar.update(0.5);
 *   bar.done();
 */
export interface ProgressBar {
  /** An ali-oss `progress` callback: draws `p` (0..1). */
  readonly update: (p: number) => void;
  /** Erases the bar (call before printing anything else, and at the end). */
  done(): void;
}

const REDRAW_MS = 100;

/**
 * A progress bar for `label` on `sink`, or a silent one when `sink` is not a terminal or `quiet` is set.
 * @example
 *   const bar = progressBar(process.stderr, 'get oss://b/k', cmd.quiet);
 *   await client.resumableDownload(name, file, { progress: bar.update });
 *   bar.done();
 */
export function progressBar(sink: ProgressSink, label: string, quiet: boolean): ProgressBar {
  if (quiet || sink.isTTY !== true) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  const width = (): number => Math.max(10, Math.min(40, (sink.columns ?? 80) - label.length - 10));
  return {
    update: (p: number) => {
      const now = Date.now();
      const fraction = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
      if (fraction < 1 && now - last < REDRAW_MS) return;
      last = now;
      const w = width();
      const filled = Math.round(fraction * w);
      sink.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(w - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`);
      drawn = true;
    },
    done: () => {
      if (drawn) sink.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
