import { GrpcCode, MascriError } from '../common/errors.js';

/** What kind of failure a docker CLI call reported; each kind maps to one gRPC code. */
export type DockerErrorKind =
  | 'not-found'
  | 'already-exists'
  | 'invalid-argument'
  | 'conflict'
  | 'unauthenticated'
  | 'unavailable'
  | 'timeout'
  | 'internal';

const CODE_OF_KIND: Record<DockerErrorKind, GrpcCode> = {
  'not-found': GrpcCode.NOT_FOUND,
  'already-exists': GrpcCode.ALREADY_EXISTS,
  'invalid-argument': GrpcCode.INVALID_ARGUMENT,
  conflict: GrpcCode.FAILED_PRECONDITION,
  unauthenticated: GrpcCode.UNAUTHENTICATED,
  unavailable: GrpcCode.UNAVAILABLE,
  timeout: GrpcCode.DEADLINE_EXCEEDED,
  internal: GrpcCode.INTERNAL,
};

/** A failed docker CLI call, classified once from Docker's own words. */
export class DockerError extends MascriError {
  constructor(
    readonly kind: DockerErrorKind,
    message: string,
    readonly args: readonly string[] = [],
    /** What docker printed on stdout before failing (e.g. the images a partial inspect did find). */
    readonly stdout: string = '',
  ) {
    super(CODE_OF_KIND[kind], message);
    this.name = 'DockerError';
  }
}

/** Docker's answer (a Conflict) to removing a container that another call is already removing. */
const REMOVAL_IN_PROGRESS = /removal of container \S+ is already in progress/i;

/** True when the error says another call is still removing the container (see DockerContainers.remove). */
export function isRemovalInProgress(error: unknown): boolean {
  return error instanceof DockerError && error.kind === 'conflict' && REMOVAL_IN_PROGRESS.test(error.message);
}

// Order matters: the first rule that matches wins. Daemon reachability comes first
// because its messages can contain words the other rules look for.
const RULES: Array<[DockerErrorKind, RegExp]> = [
  ['unavailable', /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|dial unix .*: connect: (no such file|connection refused|permission denied)/i],
  // The OCI runtime failing to start a process: no Docker object is missing, whatever the words say.
  ['internal', /OCI runtime (create|start|exec) failed|failed to create shim task/i],
  ['already-exists', /is already in use|already exists/i],
  // Before not-found: a `docker rm` of several containers reports one line per container, and one
  // still being removed by another call is not gone yet, whatever its neighbours say.
  ['conflict', REMOVAL_IN_PROGRESS],
  ['not-found', /no such (image|container|object|volume|network|file)|manifest unknown|not found|repository does not exist|pull access denied/i],
  ['unauthenticated', /unauthorized|authentication required|no basic auth credentials|denied: requested access/i],
  ['conflict', /conflict: unable to (remove|delete)|is using its referenced image|image is being used|cannot (remove|kill|stop) .*(running|paused)|is not running|is paused/i],
  ['invalid-argument', /invalid reference format|invalid argument|invalid (value|format|mode|option|port|mount|volume|restart|duration|memory|cpu|syntax)|unknown (flag|shorthand flag)|must be lowercase|invalid spec|bad format|is not a valid|invalid CapAdd|unknown capability|conflicting options|is not allowed/i],
  ['unavailable', /connection refused|no route to host|i\/o timeout|TLS handshake timeout|network is unreachable|server misbehaving|no such host|Temporary failure in name resolution/i],
];

/** The first meaningful line of Docker's stderr, without the CLI's "Error response from daemon:" noise. */
export function dockerMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^Run '.*--help' for more information/.test(line) && !/^See '.*--help'/.test(line) && !/^WARNING:/.test(line));
  const text = lines.join(' ').replace(/^(docker: )?(Error response from daemon: |Error: )/, '');
  return text || 'docker failed without a message';
}

/** Classifies a failed docker call by its stderr (pure: unit-tested on Docker's real messages). */
export function classifyDockerFailure(stderr: string): DockerErrorKind {
  for (const [kind, pattern] of RULES) if (pattern.test(stderr)) return kind;
  return 'internal';
}
