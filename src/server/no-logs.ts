import type { ContainerLogs } from './container-logs.js';

/** A log pipeline that copies nothing (until the real one is wired in, and for unit tests). */
export const noContainerLogs: ContainerLogs = {
  follow: async () => undefined,
  flush: async () => undefined,
  forget: async () => undefined,
  reopen: async () => undefined,
  close: async () => undefined,
};
