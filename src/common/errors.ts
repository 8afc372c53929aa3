import { status as GrpcCode } from '@grpc/grpc-js';

export { GrpcCode };

/** An error that already knows which gRPC status code it becomes. */
export class MascriError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MascriError';
  }
}

/** Shorthands for the codes the server uses most; each reads like the condition it reports. */
export const notFound = (message: string) => new MascriError(GrpcCode.NOT_FOUND, message);
export const invalidArgument = (message: string) => new MascriError(GrpcCode.INVALID_ARGUMENT, message);
export const alreadyExists = (message: string) => new MascriError(GrpcCode.ALREADY_EXISTS, message);
export const failedPrecondition = (message: string) => new MascriError(GrpcCode.FAILED_PRECONDITION, message);
export const unavailable = (message: string) => new MascriError(GrpcCode.UNAVAILABLE, message);
export const unimplemented = (message: string) => new MascriError(GrpcCode.UNIMPLEMENTED, message);
export const internal = (message: string) => new MascriError(GrpcCode.INTERNAL, message);

/** The name of a gRPC code as crictl and grpc-go print it, e.g. "NotFound". */
export function grpcCodeName(code: number): string {
  const names: Record<number, string> = {
    0: 'OK', 1: 'Canceled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound',
    6: 'AlreadyExists', 7: 'PermissionDenied', 8: 'ResourceExhausted', 9: 'FailedPrecondition',
    10: 'Aborted', 11: 'OutOfRange', 12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable',
    15: 'DataLoss', 16: 'Unauthenticated',
  };
  return names[code] ?? `Code(${code})`;
}
