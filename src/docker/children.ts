import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSmallText } from './host.js';

/**
 * Every process mascri starts (docker CLI calls, exec and attach sessions, port relays) carries
 * these two variables in its environment: the server's instance and its process ID. When the
 * server is killed (SIGKILL, the OOM killer) its children live on; the next server of the same
 * instance finds them by these marks and waits for (or ends) them before it loads its state,
 * so that a `docker run` or `docker create` a dead server started cannot finish behind its back.
 */
export const CHILD_INSTANCE_VAR = 'MASCRI_PARENT_INSTANCE';
export const CHILD_PID_VAR = 'MASCRI_PARENT_PID';

let marks: Record<string, string> = { [CHILD_PID_VAR]: String(process.pid) };

/** Marks the children of this process as the ones of `instance` ('' the default instance). */
export function markChildrenOf(instance: string): void {
  marks = { [CHILD_INSTANCE_VAR]: instance, [CHILD_PID_VAR]: String(process.pid) };
}

/** The marks alone (for a caller that adds them to this process's environment itself). */
export function childMarks(): Record<string, string> {
  return { ...marks };
}

/** The environment a child gets: this process's, the marks, and `extra` on top. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...marks, ...extra };
}

/** Environment variable that marks every process of one exec, so it can be found and killed on the host. */
export const EXEC_MARKER = 'MASCRI_EXEC_ID';

/** SIGKILLs every host process carrying the exec marker in its environment; answers how many. */
export async function killMarkedProcesses(marker: string): Promise<number> {
  let killed = 0;
  for await (const { pid } of processesWhoseEnvironHolds(`${EXEC_MARKER}=${marker}\0`)) if (kill(pid)) killed++;
  return killed;
}

/** The host's processes (other than this one) whose environment holds `needle`, with that environment's text. */
async function* processesWhoseEnvironHolds(needle: string): AsyncGenerator<{ pid: number; environ: string }> {
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    // Not readFile: a fresh 64 KiB buffer for each (/proc files report size 0) grew malloc's heap for
    // good by 1.4 MiB at a server's start on a host of 680 processes.
    const environ = await readSmallText(`/proc/${name}/environ`);
    if (environ?.includes(needle)) yield { pid: Number(name), environ };
  }
}

/** A marked process whose parent is gone. */
export interface Orphan {
  pid: number;
  /** Its command line, as /proc gives it. */
  argv: string[];
  /** A docker CLI call that changes Docker (run, create, start, stop, rm...): let it finish. */
  write: boolean;
}

/** The docker CLI verbs a dead server's child is let finish: each ends by itself, and ending it midway would leave Docker half-done. */
const WRITE_VERBS = new Set(['run', 'create', 'start', 'stop', 'rm', 'kill', 'update', 'pull', 'rmi', 'tag', 'load', 'image', 'container', 'network']);
/** Verbs that never end by themselves (or belong to a client that is gone): ended at once. */
const ENDLESS_VERBS = new Set(['exec', 'attach', 'events', 'logs', 'stats', 'wait']);

/**
 * Whether a process with this environment and command line is an orphan of `instance`: marked as
 * a child of that instance by a server that is no longer running (`markerAlive` false). Pure.
 */
export function classifyOrphan(pid: number, env: Record<string, string>, argv: string[], instance: string, markerAlive: boolean): Orphan | undefined {
  if (env[CHILD_INSTANCE_VAR] !== instance || markerAlive) return undefined;
  const verb = dockerVerb(argv);
  return { pid, argv, write: verb !== undefined && WRITE_VERBS.has(verb) && !ENDLESS_VERBS.has(verb) };
}

/** The PID a marked environment names as its server, or undefined when unmarked. Pure. */
export function markedParent(env: Record<string, string>): number | undefined {
  const pid = Number(env[CHILD_PID_VAR]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The docker CLI verb of a command line (`docker --log-level x run ...` -> run), or undefined when it is no docker call. */
export function dockerVerb(argv: readonly string[]): string | undefined {
  const binary = argv[0]?.split('/').pop() ?? '';
  if (binary !== 'docker' && !binary.startsWith('docker-')) return undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) return arg;
    // Global options that take a value in the next argument.
    if (['-H', '--host', '-c', '--context', '--config', '-l', '--log-level'].includes(arg)) i++;
  }
  return undefined;
}

/** The environment in /proc/<pid>/environ text (NUL-separated). Pure. */
export function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** The state letter, parent PID and start time (clock ticks since boot) in /proc/<pid>/stat text ("pid (comm) S ppid ..."). Pure. */
export function parseStat(text: string): { state: string; parentPid: number; startTime: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const parentPid = Number(fields[1]);
  const startTime = Number(fields[19]);
  return fields[0] && Number.isInteger(parentPid) && Number.isFinite(startTime) ? { state: fields[0], parentPid, startTime } : undefined;
}

async function readStat(pid: number): Promise<{ state: string; parentPid: number; startTime: number } | undefined> {
  const text = await readSmallText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStat(text);
}

/** The orphans of `instance` running on this host now (from /proc). */
export async function findOrphans(instance: string): Promise<Orphan[]> {
  const orphans: Orphan[] = [];
  for await (const { pid, environ } of processesWhoseEnvironHolds(CHILD_PID_VAR)) {
    try {
      const env = parseEnviron(environ);
      const marker = markedParent(env);
      const stat = await readStat(pid);
      if (marker === undefined || !stat || stat.state === 'Z') continue;
      // The server that marked it still runs when that PID is alive and older than the child (not a reused PID).
      const server = await readStat(marker);
      const markerAlive = server !== undefined && server.state !== 'Z' && server.startTime <= stat.startTime;
      const cmdline = await readSmallText(`/proc/${pid}/cmdline`);
      if (cmdline === undefined) continue; // gone meanwhile
      const argv = cmdline.split('\0').filter((arg) => arg !== '');
      const orphan = classifyOrphan(pid, env, argv, instance, markerAlive);
      if (orphan) orphans.push(orphan);
    } catch {
      // gone meanwhile
    }
  }
  return orphans;
}

/** Whether a process is still running (a zombie has ended). */
async function running(pid: number): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

export interface OrphanOutcome {
  /** Docker calls of a dead server that were let finish. */
  waited: Orphan[];
  /** Processes ended with SIGKILL: sessions of clients that are gone, and calls that did not finish in time. */
  killed: Orphan[];
}

/**
 * Lets the docker write calls of a dead server of `instance` finish (up to `waitMs`), and kills
 * every other orphan of it (exec and attach sessions, event and log streams, port relays), and
 * any write call still running when the wait ends.
 */
export async function settleOrphans(instance: string, waitMs: number): Promise<OrphanOutcome> {
  const orphans = await findOrphans(instance);
  const waited = orphans.filter((orphan) => orphan.write);
  const killed = orphans.filter((orphan) => !orphan.write);
  for (const orphan of killed) kill(orphan.pid);
  const deadline = Date.now() + waitMs;
  let left = waited;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = (await Promise.all(left.map(async (orphan) => ((await running(orphan.pid)) ? orphan : undefined)))).filter((o): o is Orphan => o !== undefined);
  }
  for (const orphan of left) kill(orphan.pid);
  return { waited: waited.filter((orphan) => !left.includes(orphan)), killed: [...killed, ...left] };
}

/** SIGKILLs a process; false when it was already gone. */
function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** The prefix of this process's temporary directories (label files, relay sockets): `mascri-<pid>-`. */
export function tempPrefix(pid = process.pid): string {
  return `mascri-${pid}-`;
}

/** A temporary directory name's owner PID, or undefined when it is no mascri temporary directory. Pure. */
export function tempOwner(name: string): number | undefined {
  const match = /^mascri-(\d+)-/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Where mascri makes temporary directories: label files and relay sockets in tmpdir, registry credentials in /dev/shm. */
const TEMP_ROOTS = () => [...new Set([tmpdir(), '/dev/shm'])];

/**
 * Removes the temporary directories (label files, relay sockets, registry credentials) of mascri
 * processes that are no longer running: a killed server could not remove its own. Answers how many.
 */
export async function removeStaleTempDirs(roots: readonly string[] = TEMP_ROOTS()): Promise<number> {
  let removed = 0;
  for (const root of roots) {
    for (const name of await readdir(root).catch(() => [] as string[])) {
      const owner = tempOwner(name);
      if (owner === undefined || owner === process.pid || (await running(owner))) continue;
      await rm(join(root, name), { recursive: true, force: true }).then(() => removed++, () => undefined);
    }
  }
  return removed;
}
