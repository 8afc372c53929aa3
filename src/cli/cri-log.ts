/**
 * Reading CRI log files (`<RFC3339Nano time> <stdout|stderr> <F|P> <content>`), as `crictl logs`
 * does: entries to whole lines, filters, and display. Docker json-file lines (what cri-dockerd
 * points log_path at) are read too, so the client works with such runtimes.
 */
import { parseDockerLogLine, type LogStream } from '../cri/log-format.js';
import { parseDuration } from './output.js';

/** One entry of a CRI log file. */
export interface CriLogEntry {
  /** As written in the file. */
  timestamp: string;
  /** Milliseconds since the epoch (with a fraction); NaN when the timestamp is not RFC 3339. */
  time: number;
  stream: LogStream;
  /** A piece of a line that continues in the next entry of the same stream. */
  partial: boolean;
  content: string;
}

/** A whole line: its entries joined. */
export interface LogLine {
  /** The timestamp and time of its first entry. */
  timestamp: string;
  time: number;
  stream: LogStream;
  content: string;
  /** False for the end of a log that stopped in the middle of a line. */
  complete: boolean;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time -> milliseconds since the epoch, keeping sub-millisecond digits as a fraction; NaN when it is not one. */
export function parseRfc3339(text: string): number {
  const match = RFC3339.exec(text);
  if (!match) return NaN;
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match;
  let ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (fraction) ms += Number(`0.${fraction}`) * 1000;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  return ms;
}

/** One line of a log file (without its "\n") -> its entry; undefined when it is neither a CRI nor a Docker json-file entry. */
export function parseCriLogLine(line: string): CriLogEntry | undefined {
  if (line.startsWith('{')) {
    const docker = parseDockerLogLine(line);
    if (!docker) return undefined;
    const partial = !docker.log.endsWith('\n');
    return { timestamp: docker.time, time: parseRfc3339(docker.time), stream: docker.stream, partial, content: partial ? docker.log : docker.log.slice(0, -1) };
  }
  const first = line.indexOf(' ');
  const second = first < 0 ? -1 : line.indexOf(' ', first + 1);
  if (second < 0) return undefined;
  const timestamp = line.slice(0, first);
  const stream = line.slice(first + 1, second);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag field is "F" or "P", possibly followed by ":"-separated tags; an old-style line may have no tag at all.
  const third = line.indexOf(' ', second + 1);
  const tags = third < 0 ? line.slice(second + 1) : line.slice(second + 1, third);
  const tag = tags.split(':')[0];
  if (tag !== 'F' && tag !== 'P') return undefined;
  const content = third < 0 ? '' : line.slice(third + 1);
  return { timestamp, time: parseRfc3339(timestamp), stream, partial: tag === 'P', content };
}

/**
 * Joins P entries with the entries that follow them on the same stream into whole lines,
 * fed entry by entry (a file read in pieces, or followed).
 */
export class LogLineJoiner {
  private readonly open = new Map<LogStream, LogLine>();

  /** Adds an entry; returns the line it completes, if any. */
  push(entry: CriLogEntry): LogLine | undefined {
    const started = this.open.get(entry.stream);
    const line: LogLine = started
      ? { ...started, content: started.content + entry.content }
      : { timestamp: entry.timestamp, time: entry.time, stream: entry.stream, content: entry.content, complete: false };
    if (entry.partial) {
      this.open.set(entry.stream, line);
      return undefined;
    }
    this.open.delete(entry.stream);
    return { ...line, complete: true };
  }

  /** The lines still waiting for their end (the log stopped mid-line), oldest first; forgets them. */
  drain(): LogLine[] {
    const lines = [...this.open.values()].sort((a, b) => a.time - b.time);
    this.open.clear();
    return lines;
  }
}

/** What `logs` keeps: lines from `sinceMs` on (by their first entry's time), then the last `tail` of them (a negative tail keeps all). */
export interface LogSelection {
  sinceMs?: number;
  tail?: number;
}

/** Whether a line passes the --since filter. */
export function isSince(line: LogLine, sinceMs: number | undefined): boolean {
  return sinceMs === undefined || !(line.time < sinceMs);
}

/** Keeps the last `tail` of the lines that pass the filter, holding no more than that in memory. */
export class TailBuffer {
  private lines: LogLine[] = [];

  constructor(private readonly selection: LogSelection) {}

  push(line: LogLine): void {
    if (!isSince(line, this.selection.sinceMs)) return;
    const tail = this.selection.tail ?? -1;
    if (tail === 0) return;
    this.lines.push(line);
    // Trim in batches: an occasional copy instead of a shift per line.
    if (tail > 0 && this.lines.length >= tail * 2) this.lines = this.lines.slice(-tail);
  }

  result(): LogLine[] {
    const tail = this.selection.tail ?? -1;
    return tail >= 0 ? this.lines.slice(Math.max(0, this.lines.length - tail)) : this.lines;
  }
}

/**
 * Fixed-width nanoseconds, the way crictl prints timestamps ("2026-11-23T10:00:00.100000000Z"),
 * so that columns line up; anything that is not RFC 3339 is left as it is.
 */
export function fixedNanoTimestamp(timestamp: string): string {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/.exec(timestamp);
  if (!match) return timestamp;
  return `${match[1]}.${(match[2] ?? '').padEnd(9, '0').slice(0, 9)}${match[3]!.toUpperCase()}`;
}

/** A line as `logs` prints it: with a "\n" unless the log stopped mid-line, prefixed by its timestamp with -t. */
export function formatForDisplay(line: LogLine, options: { timestamps?: boolean } = {}): string {
  const prefix = options.timestamps ? `${fixedNanoTimestamp(line.timestamp)} ` : '';
  return `${prefix}${line.content}${line.complete ? '\n' : ''}`;
}

/**
 * --since: an RFC 3339 time, or a duration back from `now` ("10s", "5m", "1h30m") -> milliseconds
 * since the epoch; undefined when the text is neither.
 */
export function parseSince(text: string, now: number = Date.now()): number | undefined {
  const time = parseRfc3339(text.trim());
  if (!Number.isNaN(time)) return time;
  try {
    return now - parseDuration(text);
  } catch {
    return undefined;
  }
}

/**
 * The log file of the container's previous attempt, where the kubelet puts it and crictl
 * looks for it: `<dir>/<attempt-1>.log` beside `<dir>/<attempt>.log`; undefined for attempt 0.
 */
export function previousLogPath(logPath: string, attempt: number): string | undefined {
  if (attempt <= 0) return undefined;
  const slash = logPath.lastIndexOf('/');
  const dot = logPath.lastIndexOf('.');
  const extension = dot > slash ? logPath.slice(dot) : '';
  return `${logPath.slice(0, slash + 1)}${attempt - 1}${extension}`;
}
