import type * as grpc from '@grpc/grpc-js';
import { GrpcCode, MascriError } from '../common/errors.js';

/** The one place where any thrown value becomes a gRPC status. */
export function toServiceError(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof MascriError) return { code: error.code, details: error.message };
  if (error instanceof Error) return { code: GrpcCode.INTERNAL, details: `internal error: ${error.message}` };
  return { code: GrpcCode.INTERNAL, details: `internal error: ${String(error)}` };
}

/** Re-throws `error` with what was being asked in front of its message, keeping its code. */
export function explain(what: string, error: unknown): never {
  if (error instanceof MascriError) throw new MascriError(error.code, `${what}: ${error.message}`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  throw new MascriError(GrpcCode.INTERNAL, `${what}: ${message}`, { cause: error });
}

/** Runs `fn`, prefixing any error with `what` (e.g. 'pulling image "x"'). */
export async function doing<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    explain(what, error);
  }
}
