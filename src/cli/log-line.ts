/**
 * Messages on stderr in crictl's shape (logrus's text formatter): on a terminal `ERRO[0000] msg`,
 * otherwise `time="2026-12-02T14:37:48Z" level=error msg="..."`, so a script reading crictl's
 * stderr reads mascri's the same way.
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'fatal';

const started = Date.now();

/** Local time as Go's RFC 3339 without fractions ("2026-12-02T14:37:48Z", "...+01:00"). */
export function rfc3339Local(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19);
  if (offset === 0) return `${local}Z`;
  const sign = offset > 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.trunc(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** logrus quotes a value unless it is made of letters, digits and `-._/@^+` only. */
function quote(text: string): string {
  if (text !== '' && /^[A-Za-z0-9\-._/@^+]+$/.test(text)) return text;
  return JSON.stringify(text);
}

/** One logrus line; `tty` picks the terminal form. */
export function formatLogLine(level: LogLevel, message: string, tty: boolean, now = new Date()): string {
  if (tty) {
    const seconds = String(Math.max(0, Math.trunc((now.getTime() - started) / 1000))).padStart(4, '0');
    return `${level.toUpperCase().slice(0, 4)}[${seconds}] ${message}`;
  }
  return `time="${rfc3339Local(now)}" level=${level} msg=${quote(message)}`;
}

/** Writes one logrus line to stderr. */
export function logLine(level: LogLevel, message: string): void {
  process.stderr.write(formatLogLine(level, message, process.stderr.isTTY === true) + '\n');
}
