// Checks the CRI request's own log path (its log_directory), not a file of the engine's host.
import { lstat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalidArgument } from '../common/errors.js';

/**
 * The container's log file: the pod's log_directory joined with the config's log_path, which the CRI
 * defines as relative to it. Pure: a log_path that is absolute, holds a NUL or climbs out of the
 * directory (`..`) is INVALID_ARGUMENT naming the field. '' when there is no log file to write.
 */
export function resolveLogPath(logDirectory: string, logPath: string | undefined): string {
  if (!logPath) return '';
  if (logPath.includes('\0')) throw invalidArgument('config.log_path holds a NUL byte');
  if (isAbsolute(logPath)) throw invalidArgument(`config.log_path "${logPath}" must be relative to the pod's log_directory${logDirectory ? ` "${logDirectory}"` : ''}, not absolute`);
  if (!logDirectory) return '';
  const directory = resolve(logDirectory);
  const file = resolve(directory, logPath);
  if (!file.startsWith(directory + sep)) {
    throw invalidArgument(`config.log_path "${logPath}" leaves the pod's log_directory "${logDirectory}" (it resolves to ${file})`);
  }
  return file;
}

/**
 * Refuses a log file whose path below the log directory goes through a symbolic link (or is one):
 * mascri would write wherever it points. Components that do not exist yet are fine (mascri makes them
 * as directories). Call before anything is created for the request.
 */
export async function refuseSymlinkedLogPath(logDirectory: string, file: string, logPath: string): Promise<void> {
  if (!file) return;
  const directory = resolve(logDirectory);
  let current = directory;
  for (const part of relative(directory, file).split(sep)) {
    current = join(current, part);
    let stats;
    try {
      stats = await lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (stats.isSymbolicLink()) {
      throw invalidArgument(`config.log_path "${logPath}" goes through the symbolic link ${current}, which could point outside the pod's log_directory "${logDirectory}"`);
    }
  }
}
