/** Kubernetes metav1.Status documents written on the remote-command error stream. */

export interface KubeStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; message?: string }> };
  code?: number;
}

export const NON_ZERO_EXIT_CODE_REASON = 'NonZeroExitCode';
export const EXIT_CODE_CAUSE = 'ExitCode';

export function successStatus(): KubeStatus {
  return { metadata: {}, status: 'Success' };
}

/** What kubelet writes when the command exits non-zero; clients turn it back into the exit code. */
export function exitCodeStatus(cmd: readonly string[], exitCode: number): KubeStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${exitCode}`,
    reason: NON_ZERO_EXIT_CODE_REASON,
    details: { causes: [{ reason: EXIT_CODE_CAUSE, message: String(exitCode) }] },
  };
}

export function internalErrorStatus(message: string): KubeStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/**
 * The bytes for the error stream: v4/v5 write the Status as JSON; older protocols write
 * only a failure's message, as text.
 */
export function encodeStatus(status: KubeStatus, protocol: string): Buffer {
  if (/^v[45]\./.test(protocol)) return Buffer.from(JSON.stringify(status));
  return status.status === 'Success' ? Buffer.alloc(0) : Buffer.from(status.message ?? 'command failed');
}

/**
 * The outcome a client reads from the error stream: undefined for success, the exit code
 * for NonZeroExitCode, otherwise an Error with the server's message.
 */
export function decodeStatus(bytes: Buffer, protocol: string): { exitCode?: number; error?: Error } {
  const text = bytes.toString('utf8').trim();
  if (text === '') return {};
  if (!/^v[45]\./.test(protocol)) return { error: new Error(text) };
  let status: KubeStatus;
  try {
    status = JSON.parse(text) as KubeStatus;
  } catch {
    return { error: new Error(`error stream: ${text}`) };
  }
  if (status.status === 'Success') return {};
  if (status.reason === NON_ZERO_EXIT_CODE_REASON) {
    const cause = status.details?.causes?.find((c) => c.reason === EXIT_CODE_CAUSE);
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { exitCode: code };
  }
  return { error: new Error(status.message ?? text) };
}
