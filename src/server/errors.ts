import type { GrpcStatus } from './transport/grpc-server.js';
import { GrpcCode, MascriError } from '../common/errors.js';
import { truncateUtf8, utf8Length } from '../common/utf8.js';

/**
 * Most bytes of a status message. It travels in the grpc-message trailer, percent-encoded; a client
 * whose header limit it passes drops the trailers and never sees the call end, so it waits for its
 * deadline instead of reading the error (grpc-js 1.14 here: 70 000 ASCII characters arrive, 100 000 do not).
 */
export const MAX_STATUS_DETAILS_BYTES = 8 * 1024;

/** The one place where any thrown value becomes a gRPC status. */
export function toServiceError(error: unknown): GrpcStatus {
  if (error instanceof MascriError) return { code: error.code, details: truncateUtf8(error.message, MAX_STATUS_DETAILS_BYTES) };
  const message = error instanceof Error ? error.message : String(error);
  return { code: GrpcCode.INTERNAL, details: truncateUtf8(`internal error: ${message}`, MAX_STATUS_DETAILS_BYTES) };
}

/** Re-throws `error` with what was being asked in front of its message, keeping its code (INTERNAL if it has none). */
export function rethrowWithContext(what: string, error: unknown): never {
  if (error instanceof MascriError) throw new MascriError(error.code, `${what}: ${error.message}`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  throw new MascriError(GrpcCode.INTERNAL, `${what}: ${message}`, { cause: error });
}

/**
 * A command as messages name it: JSON, each entry and the whole cut short, so that what went wrong
 * still fits in the status after it (MAX_STATUS_DETAILS_BYTES).
 */
export function describeCommand(cmd: readonly string[]): string {
  const parts = cmd.slice(0, 8).map((part) => (utf8Length(part) > 60 ? `${truncateUtf8(part, 60)}... (${utf8Length(part)} bytes)` : part));
  if (cmd.length > 8) parts.push(`... (${cmd.length} entries)`);
  return JSON.stringify(parts);
}

/** Runs `fn`; an error it throws gets `what` (e.g. 'pulling image "x"') in front of its message, keeping its code. */
export async function runWithErrorContext<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    rethrowWithContext(what, error);
  }
}
