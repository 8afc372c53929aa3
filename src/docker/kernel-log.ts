import { closeSync, constants, openSync, readSync } from 'node:fs';

/**
 * True when the kernel log records an OOM kill of a task in container `id`'s memory cgroup (or one
 * whose limit it hit). Pure. Docker's OOMKilled flag misses a kill that happens before containerd
 * watches the new cgroup (a process that allocates past its limit at once), and a kubelet would
 * then report a crash instead of OOMKilled.
 */
export function kernelLogHasOomKill(records: readonly string[], id: string): boolean {
  if (!/^[0-9a-f]{12,64}$/.test(id)) return false;
  const names = [`/${id}`, `-${id}.scope`, `/${id}.scope`];
  for (const record of records) {
    if (!record.includes('oom-kill:')) continue;
    for (const field of ['task_memcg', 'oom_memcg']) {
      const path = new RegExp(`${field}=([^,\\s]*)`).exec(record)?.[1];
      if (path && names.some((name) => path.endsWith(name))) return true;
    }
  }
  return false;
}

/**
 * The records of the kernel log (/dev/kmsg, read without waiting), or [] where it cannot be read
 * (no CAP_SYSLOG, a container without it). A rare call: only for containers killed by SIGKILL.
 */
export function readKernelLog(maxRecords = 100_000): string[] {
  let fd: number;
  try {
    fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return [];
  }
  const records: string[] = [];
  const buffer = Buffer.alloc(16 * 1024);
  try {
    while (records.length < maxRecords) {
      let length: number;
      try {
        length = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // records overwritten while reading: go on with the next
        break; // EAGAIN: the end; anything else: what was read so far
      }
      if (length <= 0) break;
      records.push(buffer.toString('utf8', 0, length));
    }
  } finally {
    closeSync(fd);
  }
  return records;
}
