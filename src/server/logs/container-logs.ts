/** What the server needs from the container log pipeline; ContainerLogCopier (container-log-copier.ts) is the real one. */
export interface ContainerLogs {
  /** Starts (or resumes) copying the container's Docker log into its CRI log file. */
  follow(id: string, dockerLogPath: string, criLogPath: string): Promise<void>;
  /** Copies everything Docker has written so far. */
  flush(id: string): Promise<void>;
  /** Stops following; with removeFiles, deletes the CRI log file. */
  forget(id: string, options?: { removeFiles?: boolean }): Promise<void>;
  /** Reopens the CRI log file (after rotation). */
  reopen(id: string): Promise<void>;
  close(): Promise<void>;
}
