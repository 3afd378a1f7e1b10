import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type { PinoLogger };

let stdout: DestinationStream | undefined;

/**
 * The process's structured logger: one JSON object per line on stdout, at `LOG_LEVEL`. Writes are
 * buffered off the request path (pino flushes what is left when the process exits). Nothing here
 * ever logs a header: API keys travel in `Authorization` and must never reach a log.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): PinoLogger {
  stdout ??= pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level,
      base: { service: 'ledger', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? stdout,
  );
}

/** Writes what is buffered now (before a deliberate exit). */
export function flushLogs(): void {
  try {
    (stdout as { flushSync?: () => void } | undefined)?.flushSync?.();
  } catch {
    // nothing buffered yet, or stdout is busy: the lines follow shortly anyway
  }
}

/** Nest's logger interface over pino, so Nest's own lines (and `new Logger(ctx)`) are JSON too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: PinoLogger) {}

  private write(
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace',
    message: unknown,
    params: unknown[],
  ): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const rest = context === undefined ? params : params.slice(0, -1);
    const fields: Record<string, unknown> = context ? { context } : {};
    // Nest passes an error's stack as the parameter after the message.
    if (level === 'error' && typeof rest[0] === 'string') fields.stack = rest[0];
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...(message as object) });
    else this.logger[level](fields, String(message));
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}
