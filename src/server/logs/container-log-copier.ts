// mascri's own log pipeline, not host probing: it reads the json-file logs Docker writes for mascri's
// containers and writes the CRI log files in the directories the requests named, so it does its file
// work here rather than through the Docker adapter's host (src/docker/host.ts).
import { fstatSync, statSync, watch, type BigIntStats, type FSWatcher } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { failedPrecondition } from '../../common/errors.js';
import { parseJsonObject } from '../../common/json.js';
import type { Logger } from '../../common/logger.js';
import { convertDockerLogLines } from '../../cri/log-format.js';
import type { ContainerLogs } from './container-logs.js';

/** How often every followed log is checked even without a file event (fs.watch misses some filesystems). */
export const POLL_INTERVAL_MS = 500;
/** Bytes read from a Docker log at a time. */
const READ_CHUNK = 256 * 1024;
/** A Docker json line is at most ~100 KiB (16 KiB of output, escaped); anything longer without a "\n" is garbage. */
const MAX_LINE = 8 * 1024 * 1024;
const CRI_LOG_DIR_MODE = 0o755;
const CRI_LOG_FILE_MODE = 0o640;

/** Which file a path named when it was opened: a rotated or re-created file has another identity. */
export interface FileIdentity {
  dev: string;
  ino: string;
}

/** What `<stateDir>/<id>.json` holds: how far the container's Docker log has been copied. */
export interface SavedLogPosition {
  version: 1;
  dockerLogPath: string;
  /** The Docker log file `offset` belongs to. */
  dockerLog: FileIdentity;
  /** Bytes of that file already copied: always the end of a whole JSON line. */
  offset: number;
  criLogPath: string;
  /**
   * The CRI file and its size right after the copy `offset` records. A bigger file at start-up
   * holds lines written just before a crash whose position was never saved: they are cut off
   * and copied again, so no line appears twice.
   */
  criLog?: FileIdentity & { size: number };
}

interface OpenFile {
  path: string;
  handle: FileHandle;
  identity: FileIdentity;
}

/**
 * Copies each container's Docker json-file log into its CRI log file, and keeps doing so as
 * the container writes. Positions survive restarts of mascri, so nothing is lost or repeated.
 */
export class ContainerLogCopier implements ContainerLogs {
  private readonly stateDir: string;
  private readonly log: Logger;
  private readonly copies = new Map<string, LogCopy>();
  private readonly stopping = new Map<string, Promise<void>>();
  private poller: NodeJS.Timeout | undefined;
  private stateDirReady: Promise<void> | undefined;
  private closed = false;

  constructor(options: { stateDir: string; log: Logger }) {
    this.stateDir = options.stateDir;
    this.log = options.log.child({ component: 'container-logs' });
  }

  /** Starts (or resumes) copying container `id`'s Docker json log at `dockerLogPath` into the CRI file `criLogPath`. Idempotent per id. */
  async follow(id: string, dockerLogPath: string, criLogPath: string): Promise<void> {
    checkId(id);
    await this.stopping.get(id);
    if (this.closed) return;
    const existing = this.copies.get(id);
    if (existing) {
      if (existing.dockerLogPath !== dockerLogPath || existing.criLogPath !== criLogPath) {
        this.log.warn('container log already followed with other paths; keeping them', { container: id, dockerLogPath: existing.dockerLogPath, criLogPath: existing.criLogPath });
      }
      return;
    }
    const saved = await this.loadPosition(id);
    if (this.closed || this.copies.has(id)) return;
    const copy = new LogCopy(id, dockerLogPath, criLogPath, this.statePath(id), saved, () => this.ensureStateDir(), this.log.child({ container: id }));
    this.copies.set(id, copy);
    this.startPolling();
    // The CRI file exists when follow returns (readers may open it at once); the catch-up runs in the background.
    await copy.prepare();
    void copy.schedulePump();
  }

  /** Copies everything Docker has written so far for `id` (used after a container exits, and by tests). Resolves when the CRI file holds every entry present in the Docker log at call time. */
  async flush(id: string): Promise<void> {
    // A stop under way does the last copy itself: wait for it rather than answer early.
    await this.stopping.get(id)?.catch(() => undefined);
    await this.copies.get(id)?.schedulePump();
  }

  /** Stops following `id` after a final flush; with removeFiles, deletes the CRI log file and the saved position. */
  async forget(id: string, options: { removeFiles?: boolean } = {}): Promise<void> {
    checkId(id);
    // A forget already under way finishes its last copy first; removing files before that ends could
    // let its final write create the log file again.
    await this.stopping.get(id)?.catch(() => undefined);
    const copy = this.copies.get(id);
    if (copy) {
      this.copies.delete(id);
      const done = copy.schedulePump().then(() => copy.stop());
      this.stopping.set(id, done);
      try {
        await done;
      } finally {
        this.stopping.delete(id);
      }
      if (this.copies.size === 0) this.stopPolling();
    }
    if (!options.removeFiles) return;
    const criLogPath = copy?.criLogPath ?? (await this.loadPosition(id))?.criLogPath;
    for (const path of [criLogPath, this.statePath(id)]) {
      if (!path) continue;
      try {
        await rm(path, { force: true });
      } catch (error) {
        this.log.warn('could not remove a container log file', { container: id, path, error: describe(error) });
      }
    }
  }

  /** Closes and reopens the CRI log file at the same path (log rotation: the old file was renamed away); no line is lost or repeated. */
  async reopen(id: string): Promise<void> {
    const copy = this.copies.get(id);
    if (!copy) throw failedPrecondition(`the output of container "${id}" is not being copied to a log file (was it created with a log_path?), so there is no log to reopen`);
    await copy.reopen();
  }

  /** Stops everything (server shutdown), saving positions. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    const copies = [...this.copies.values()];
    this.copies.clear();
    await Promise.all([...copies.map((copy) => copy.stop()), ...this.stopping.values()]);
  }

  private startPolling(): void {
    if (this.poller) return;
    this.poller = setInterval(() => {
      for (const copy of this.copies.values()) if (copy.pollDue()) void copy.schedulePump();
    }, POLL_INTERVAL_MS);
    this.poller.unref();
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }

  private statePath(id: string): string {
    return join(this.stateDir, `${id}.json`);
  }

  private ensureStateDir(): Promise<void> {
    this.stateDirReady ??= mkdir(this.stateDir, { recursive: true, mode: 0o700 }).then(
      () => undefined,
      (error: unknown) => {
        this.stateDirReady = undefined;
        throw error;
      },
    );
    return this.stateDirReady;
  }

  private async loadPosition(id: string): Promise<SavedLogPosition | undefined> {
    let text: string;
    try {
      text = await readFile(this.statePath(id), 'utf8');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.log.warn('cannot read a saved log position; copying from the start', { container: id, error: describe(error) });
      return undefined;
    }
    const saved = parseSavedPosition(text);
    if (!saved) this.log.warn('ignoring a malformed saved log position; copying from the start', { container: id, path: this.statePath(id) });
    return saved;
  }
}

/** The saved position in a state file's text; undefined when it is not one. */
export function parseSavedPosition(text: string): SavedLogPosition | undefined {
  const v = parseJsonObject(text);
  if (!v) return undefined;
  if (v.version !== 1 || typeof v.dockerLogPath !== 'string' || typeof v.criLogPath !== 'string') return undefined;
  if (!isIdentity(v.dockerLog) || typeof v.offset !== 'number' || !Number.isSafeInteger(v.offset) || v.offset < 0) return undefined;
  const saved: SavedLogPosition = { version: 1, dockerLogPath: v.dockerLogPath, dockerLog: v.dockerLog, offset: v.offset, criLogPath: v.criLogPath };
  const cri = v.criLog as Record<string, unknown> | undefined;
  if (isIdentity(cri) && typeof cri.size === 'number' && Number.isSafeInteger(cri.size)) saved.criLog = { dev: cri.dev, ino: cri.ino, size: cri.size };
  return saved;
}

function isIdentity(value: unknown): value is FileIdentity {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.dev === 'string' && typeof v.ino === 'string';
}

/** One container's copy: every file operation runs on its queue, one at a time. */
class LogCopy {
  private source: OpenFile | undefined;
  private offset = 0;
  private cri: OpenFile | undefined;
  private watcher: FSWatcher | undefined;
  private queue: Promise<void> = Promise.resolve();
  private queuedPump: Promise<void> | undefined;
  private stopped = false;
  /** The last problem logged, so that a lasting one is logged once, not at every poll. */
  private problem: string | undefined;
  /** Where a previous run stopped, until the Docker log is first opened. */
  private resumeSource: { identity: FileIdentity; offset: number } | undefined;
  /** The CRI file as a previous run left it, until the CRI file is first opened. */
  private resumeCri: (FileIdentity & { size: number }) | undefined;

  constructor(
    readonly id: string,
    readonly dockerLogPath: string,
    readonly criLogPath: string,
    private readonly statePath: string,
    saved: SavedLogPosition | undefined,
    private readonly ensureStateDir: () => Promise<void>,
    private readonly log: Logger,
  ) {
    if (saved) this.resumeSource = { identity: saved.dockerLog, offset: saved.offset };
    if (saved?.criLogPath === criLogPath) this.resumeCri = saved.criLog;
  }

  /** Opens (creating) the CRI file. */
  prepare(): Promise<void> {
    return this.enqueue(async () => {
      try {
        await this.openCri();
      } catch (error) {
        this.report('cannot open the CRI log file', error);
      }
    });
  }

  /**
   * Queues a copy of whatever Docker has written; a copy already queued (not yet started)
   * is shared, so that file events and polls never pile up.
   */
  schedulePump(): Promise<void> {
    if (this.queuedPump) return this.queuedPump;
    const run = this.enqueue(async () => {
      this.queuedPump = undefined;
      await this.pumpSafely();
    });
    this.queuedPump = run;
    return run;
  }

  /**
   * Whether the poll should copy: new bytes, a rotated or vanished Docker log, or a file not
   * open yet. Synchronous stats of local files take microseconds, far less than queuing an
   * asynchronous copy for each of 100 idle containers twice a second.
   */
  pollDue(): boolean {
    if (this.stopped || this.queuedPump) return false;
    if (!this.cri || !this.source) return true;
    try {
      if (fstatSync(this.source.handle.fd).size !== this.offset) return true;
      const current = statSync(this.dockerLogPath, { bigint: true, throwIfNoEntry: false });
      return !current || !sameFile(identityOf(current), this.source.identity);
    } catch {
      return true; // the copy reports it
    }
  }

  /** Switches to a new CRI file at the same path; lines copied so far stay in the old one. */
  reopen(): Promise<void> {
    return this.enqueue(async () => {
      await this.closeCri();
      await this.openCri();
      await this.savePosition();
    });
  }

  /** Stops watching and closes the files (the position is already saved). */
  stop(): Promise<void> {
    return this.enqueue(async () => {
      this.stopped = true;
      this.unwatch();
      await this.closeSource();
      await this.closeCri();
    });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async pumpSafely(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.pump();
    } catch (error) {
      this.report('copying the container log failed; retrying', error);
    }
  }

  private async pump(): Promise<void> {
    if (!this.cri) await this.openCri();
    if (!this.source && !(await this.openSource())) return;
    for (;;) {
      await this.copyToEnd();
      const current = await identityAt(this.dockerLogPath);
      if (current && sameFile(current, this.source!.identity)) break;
      // Docker rotated or re-created its log, or the container is gone: the old file gets no more
      // lines, so finish it (its last lines may have come after our last read) and move on.
      await this.copyToEnd();
      await this.closeSource();
      if (!(await this.openSource())) return;
    }
    this.problem = undefined;
  }

  /** Copies every whole JSON line from the current offset to the end of the source. */
  private async copyToEnd(): Promise<void> {
    const source = this.source!;
    const size = Number((await source.handle.stat()).size);
    if (size < this.offset) {
      this.log.warn("Docker's log file shrank (truncated?); copying it from the start", { dockerLogPath: source.path, offset: this.offset, size });
      this.offset = 0;
    }
    let chunk = READ_CHUNK;
    while (this.offset < size) {
      const length = Math.min(chunk, size - this.offset);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await source.handle.read(buffer, 0, length, this.offset);
      if (bytesRead === 0) break;
      const end = buffer.lastIndexOf(0x0a, bytesRead - 1);
      if (end < 0) {
        if (this.offset + bytesRead >= size) break; // the last line is still being written
        if (chunk < MAX_LINE) {
          chunk *= 2;
          continue;
        }
        this.log.warn("skipping an over-long line of Docker's log", { dockerLogPath: source.path, offset: this.offset, bytes: bytesRead });
        this.offset += bytesRead;
        await this.savePosition();
        continue;
      }
      // "\n" (0x0a) never occurs inside a UTF-8 sequence, so the cut is a character boundary.
      const { output, malformed } = convertDockerLogLines(buffer.toString('utf8', 0, end + 1));
      if (malformed > 0) this.log.warn("skipping lines of Docker's log that are not log entries", { dockerLogPath: source.path, offset: this.offset, lines: malformed });
      if (output !== '') await this.writeCri(Buffer.from(output, 'utf8'));
      this.offset += end + 1;
      await this.savePosition();
      chunk = READ_CHUNK;
    }
  }

  /** Appends to the CRI file; a failed write is cut off again so that the retry does not repeat it. */
  private async writeCri(data: Buffer): Promise<void> {
    const handle = this.cri!.handle;
    const before = Number((await handle.stat()).size);
    try {
      let written = 0;
      while (written < data.length) written += (await handle.write(data, written, data.length - written)).bytesWritten;
    } catch (error) {
      await handle.truncate(before).catch(() => undefined);
      throw error;
    }
  }

  /** Opens the Docker log (or, after a restart, the rotated file the saved offset belongs to); false while there is none. */
  private async openSource(): Promise<boolean> {
    let file: OpenFile;
    try {
      file = await openIdentified(this.dockerLogPath, 'r');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      this.note(`Docker's log file does not exist (container not started yet, or removed); waiting for it`, { dockerLogPath: this.dockerLogPath });
      return false;
    }
    this.offset = 0;
    const resume = this.resumeSource;
    this.resumeSource = undefined;
    if (resume) {
      if (sameFile(file.identity, resume.identity)) {
        this.offset = resume.offset;
      } else {
        const rotated = await openIdentified(`${this.dockerLogPath}.1`, 'r').catch(() => undefined);
        if (rotated && sameFile(rotated.identity, resume.identity)) {
          // Docker rotated the log while mascri was down: finish the old file first (no watch on it: the pump moves on at once).
          await file.handle.close();
          this.source = rotated;
          this.offset = resume.offset;
          this.log.info("resuming in Docker's rotated log file", { path: rotated.path, offset: resume.offset });
          return true;
        }
        await rotated?.handle.close();
        this.log.warn("Docker's log file was replaced while mascri was not copying it; copying the new one from the start", { dockerLogPath: this.dockerLogPath });
      }
    }
    this.source = file;
    this.watchSource();
    return true;
  }

  /** Opens (creating, 0640, in a 0755 directory) the CRI file for appending. */
  private async openCri(): Promise<void> {
    await mkdir(dirname(this.criLogPath), { recursive: true, mode: CRI_LOG_DIR_MODE });
    let file: OpenFile;
    try {
      file = await openIdentified(this.criLogPath, 'ax', CRI_LOG_FILE_MODE);
      // The mode whatever the umask.
      await chmod(this.criLogPath, CRI_LOG_FILE_MODE).catch((error: unknown) => this.log.debug('cannot set the CRI log file mode', { error: describe(error) }));
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      file = await openIdentified(this.criLogPath, 'a', CRI_LOG_FILE_MODE);
    }
    const saved = this.resumeCri;
    this.resumeCri = undefined;
    if (saved && sameFile(saved, file.identity)) {
      try {
        const size = Number((await file.handle.stat()).size);
        if (size > saved.size) {
          this.log.info('cutting off lines copied after the last saved position (they are copied again)', { criLogPath: this.criLogPath, bytes: size - saved.size });
          await file.handle.truncate(saved.size);
        }
      } catch (error) {
        await file.handle.close().catch(() => undefined);
        throw error;
      }
    }
    this.cri = file;
  }

  private async savePosition(): Promise<void> {
    if (!this.source) return;
    const position: SavedLogPosition = {
      version: 1,
      dockerLogPath: this.dockerLogPath,
      dockerLog: this.source.identity,
      offset: this.offset,
      criLogPath: this.criLogPath,
    };
    if (this.cri) position.criLog = { ...this.cri.identity, size: Number((await this.cri.handle.stat()).size) };
    await this.ensureStateDir();
    const temporary = `${this.statePath}.tmp`;
    await writeFile(temporary, JSON.stringify(position) + '\n', { mode: 0o600 });
    await rename(temporary, this.statePath);
  }

  private watchSource(): void {
    this.unwatch();
    try {
      const watcher = watch(this.dockerLogPath, { persistent: false }, () => void this.schedulePump());
      watcher.on('error', (error) => {
        this.log.debug('watching the Docker log failed; polling only', { error: describe(error) });
        if (this.watcher === watcher) this.unwatch();
      });
      this.watcher = watcher;
    } catch (error) {
      this.log.debug('cannot watch the Docker log; polling only', { error: describe(error) });
    }
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async closeSource(): Promise<void> {
    this.unwatch();
    const source = this.source;
    this.source = undefined;
    await source?.handle.close().catch(() => undefined);
  }

  private async closeCri(): Promise<void> {
    const cri = this.cri;
    this.cri = undefined;
    await cri?.handle.close().catch(() => undefined);
  }

  /** Logs a lasting condition once (info), until it changes. */
  private note(message: string, fields: Record<string, unknown>): void {
    if (this.problem === message) return;
    this.problem = message;
    this.log.info(message, fields);
  }

  /** Logs a failure once (warn), until it changes. */
  private report(message: string, error: unknown): void {
    const key = `${message}: ${describe(error)}`;
    if (this.problem === key) return;
    this.problem = key;
    this.log.warn(message, { dockerLogPath: this.dockerLogPath, criLogPath: this.criLogPath, error: describe(error) });
  }
}

async function openIdentified(path: string, flags: string, mode?: number): Promise<OpenFile> {
  const handle = await open(path, flags, mode);
  try {
    return { path, handle, identity: identityOf(await handle.stat({ bigint: true })) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

async function identityAt(path: string): Promise<FileIdentity | undefined> {
  try {
    return identityOf(await stat(path, { bigint: true }));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function identityOf(stats: BigIntStats): FileIdentity {
  return { dev: stats.dev.toString(), ino: stats.ino.toString() };
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Container IDs name state files: nothing that could leave the state directory. */
function checkId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new Error(`invalid container ID for a log copy: ${JSON.stringify(id)}`);
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
