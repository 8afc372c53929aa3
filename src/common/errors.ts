/**
 * The gRPC status codes (grpc/grpc doc/statuscodes.md), the same numbers as grpc-js's `status`:
 * defined here so that the server, which speaks gRPC itself (server/transport), loads no grpc-js.
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

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
