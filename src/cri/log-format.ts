/**
 * Docker's json-file log entries -> the CRI log format the kubelet, `crictl logs` and log
 * collectors read: `<RFC3339Nano time> <stdout|stderr> <F|P> <content>\n`.
 */
import { parseJsonObject } from '../common/json.js';

export type LogStream = 'stdout' | 'stderr';

/** One line of Docker's json-file log: `{"log":"hello\n","stream":"stdout","time":"…"}`. */
export interface DockerLogEntry {
  /** The output, ending in "\n" unless Docker split the line (16 KiB) or the stream ended without one. */
  log: string;
  stream: LogStream;
  /** RFC3339Nano, as Docker wrote it. */
  time: string;
}

/** The CRI tag of a whole line. */
export const FULL_TAG = 'F';
/** The CRI tag of a piece of a line that continues in the next entry. */
export const PARTIAL_TAG = 'P';

/** One line of a Docker json-file log (without its "\n") -> its entry; undefined when it is not one. */
export function parseDockerLogLine(line: string): DockerLogEntry | undefined {
  const value = parseJsonObject(line);
  if (!value) return undefined;
  const { log, stream, time } = value;
  if (typeof log !== 'string' || typeof time !== 'string' || time === '') return undefined;
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  return { log, stream, time };
}

/**
 * A Docker entry -> CRI log lines, each ending in "\n" ('' for an empty partial entry, which says nothing).
 * Like containerd, only the final "\n" is removed (a "\r" before it stays). Docker never puts a "\n"
 * inside an entry, but if one does, each piece becomes its own entry so that the file stays one entry a line.
 */
export function formatCriLogLines(entry: DockerLogEntry): string {
  const pieces = entry.log.split('\n');
  // "a\n" -> ["a", ""]: every piece but the last ended in "\n"; the last one, if not empty, is partial.
  const last = pieces.pop()!;
  let out = '';
  for (const piece of pieces) out += criLogLine(entry.time, entry.stream, FULL_TAG, piece);
  if (last !== '') out += criLogLine(entry.time, entry.stream, PARTIAL_TAG, last);
  return out;
}

/** One CRI log line, with its "\n". */
export function criLogLine(time: string, stream: LogStream, tag: string, content: string): string {
  return `${time} ${stream} ${tag} ${content}\n`;
}

/** Converts whole Docker json-file lines ("\n"-terminated text) to CRI log lines; lines that are not Docker entries are counted and skipped. */
export function convertDockerLogLines(text: string): { output: string; malformed: number } {
  let output = '';
  let malformed = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const entry = parseDockerLogLine(line);
    if (entry) output += formatCriLogLines(entry);
    else malformed++;
  }
  return { output, malformed };
}
