/** Structured logging: one JSON object per line on stderr, filtered by level. */
import { isoTime } from './time.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string): value is LogLevel {
  return value in ORDER;
}

export type LogFields = Record<string, unknown>;

export class Logger {
  constructor(
    private level: LogLevel = 'info',
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
    private readonly base: LogFields = {},
  ) {}

  /** A logger that adds the given fields to every line. */
  child(fields: LogFields): Logger {
    return new Logger(this.level, this.write, { ...this.base, ...fields });
  }

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[this.level];
  }

  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    this.write(JSON.stringify({ time: isoTime(), level, msg, ...this.base, ...fields }));
  }
}

/** A logger that drops everything (unit tests, client commands). */
export const silentLogger = new Logger('error', () => {});
