/**
 * A progress bar on stderr for long audit jobs: redrawn in place on a terminal, a line every few
 * seconds otherwise (CI logs, files). stdout stays free for reports.
 */
export class ProgressBar {
  private lastDrawMs = 0;
  private readonly startedMs = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: bigint | number, total: bigint | number, unit = 'events', force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDrawMs < (this.tty ? 100 : 2000)) return;
    this.lastDrawMs = now;
    const d = Number(done);
    const t = Math.max(Number(total), d, 1);
    const ratio = Math.min(1, d / t);
    const width = 30;
    const filled = Math.round(ratio * width);
    const rate = Math.round(d / Math.max(0.001, (now - this.startedMs) / 1000));
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ${d}/${t} ${unit}, ${rate}/s`;
    this.stream.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  done(done: bigint | number, total: bigint | number, unit = 'events'): void {
    this.update(done, total, unit, true);
    if (this.tty) this.stream.write('\n');
  }
}
