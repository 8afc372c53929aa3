import { invalidArgument } from '../common/errors.js';

/**
 * Linux's limit on one argument or environment string, its terminating NUL included
 * (MAX_ARG_STRLEN: 32 pages). A constant of the kernel: no rlimit raises it, so a string this
 * long can be neither a docker argument nor part of any process started in a container.
 */
export const MAX_ARG_BYTES = 128 * 1024;

/**
 * What execve takes in argv and envp together (ARG_MAX): a quarter of the stack limit, with the
 * 8 MiB default that Docker's containers inherit from containerd (and the docker CLI from mascri).
 * A container whose environment and command pass it is created, but its process never starts
 * ("exec ...: argument list too long").
 */
export const EXEC_STRINGS_MAX = 2 * 1024 * 1024;

/**
 * Most bytes (as execve counts them) a `docker create`/`run` is given in arguments: the rest of
 * ARG_MAX is left for the environment the CLI inherits from mascri, which counts against the same limit.
 */
export const DOCKER_ARGS_MAX = 1536 * 1024;

/**
 * Above this many bytes of `docker create` arguments (as execve counts them), the container's
 * environment and command go in the create request's body through the create relay instead of
 * `--env` and positional arguments. Half of ARG_MAX, so the rest of the arguments and the CLI's
 * inherited environment fit beside them; not lower, because the relay cannot reach ssh:// or TLS
 * engines, and requests of ordinary size must work there.
 */
export const ARGS_INLINE_MAX = 1024 * 1024;

/** Most bytes of a path, its NUL included (PATH_MAX): the kernel refuses longer ones with ENAMETOOLONG. */
export const PATH_MAX = 4096;

/** Bytes execve counts for one string: its UTF-8, its NUL and the pointer to it. */
export function execveBytes(value: string): number {
  return Buffer.byteLength(value, 'utf8') + 1 + 8;
}

/** execveBytes summed over `values`. */
export function execveTotal(values: Iterable<string>): number {
  let total = 0;
  for (const value of values) total += execveBytes(value);
  return total;
}

/** "300 KiB", "2 MiB", "512 bytes": sizes as messages give them. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 100) / 100} MiB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  return `${bytes} bytes`;
}

/**
 * Refuses (INVALID_ARGUMENT naming `field`) a string no process can be started with: one holding
 * a NUL (it would end the string there) or one of MAX_ARG_BYTES or more with its NUL.
 */
export function checkProcessString(field: string, value: string): void {
  if (value.includes('\0')) throw invalidArgument(`${field} holds a NUL byte, which no argument or environment string can carry`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes + 1 > MAX_ARG_BYTES) {
    throw invalidArgument(
      `${field} is ${bytes} bytes (${formatBytes(bytes)}); Linux starts no process with an argument or environment string over ${MAX_ARG_BYTES - 1} bytes (MAX_ARG_STRLEN), so the process could never run. Put data this large in a file (a volume, a ConfigMap or Secret) instead`,
    );
  }
}

/**
 * Refuses a process whose argv and envp together pass EXEC_STRINGS_MAX (`what` names the fields),
 * so that it is refused when asked rather than failing to start.
 */
export function checkProcessTotal(what: string, total: number): void {
  if (total > EXEC_STRINGS_MAX) {
    throw invalidArgument(
      `${what} take ${formatBytes(total)} as the process would be started with them (each string, its NUL and its pointer); Linux starts no process with more than ${formatBytes(EXEC_STRINGS_MAX)} of arguments and environment (ARG_MAX with the default 8 MiB stack limit). Put large data in a file (a volume, a ConfigMap or Secret) instead`,
    );
  }
}

/**
 * Refuses a command to run in a container that no process could be started with (`field` names
 * it): an entry too long or holding a NUL, or, with the environment it would get, past EXEC_STRINGS_MAX.
 */
export function checkProcessCommand(field: string, cmd: readonly string[], env: readonly string[] = []): void {
  for (const [i, part] of cmd.entries()) checkProcessString(`${field}[${i}]`, part);
  checkProcessTotal(env.length > 0 ? `${field} and the container's environment` : field, execveTotal(cmd) + execveTotal(env));
}

/** The CRI field each docker flag's value comes from, for messages; positional arguments are `positional`. */
export interface ArgFields {
  flags: Record<string, string>;
  /** Index in the arguments where the image and its command start. */
  positionalFrom: number;
  positional: string;
}

/**
 * Refuses docker arguments the CLI could not be started with, naming the CRI field they came
 * from (pure): a NUL in one, one too long for the kernel, or all of them past DOCKER_ARGS_MAX.
 */
export function checkDockerArgs(args: readonly string[], fields: ArgFields): void {
  const fieldOf = (i: number): string => {
    if (i >= fields.positionalFrom) return fields.positional;
    const flag = args[i - 1];
    const owner = flag?.startsWith('-') ? flag : args[i]!;
    return fields.flags[owner] ?? `the value of docker's ${owner}`;
  };
  const byField = new Map<string, number>();
  let total = 0;
  for (const [i, arg] of args.entries()) {
    const bytes = execveBytes(arg);
    total += bytes;
    if (arg.startsWith('-') && i < fields.positionalFrom && fields.flags[arg] !== undefined) continue;
    const field = fieldOf(i);
    checkProcessString(field, arg);
    byField.set(field, (byField.get(field) ?? 0) + bytes);
  }
  if (total <= DOCKER_ARGS_MAX) return;
  const largest = [...byField.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
  throw invalidArgument(
    `the request needs ${formatBytes(total)} of docker arguments, more than the ${formatBytes(DOCKER_ARGS_MAX)} mascri hands the docker CLI (Linux's ARG_MAX is 2 MiB); most of it: ${largest.map(([field, bytes]) => `${field} ${formatBytes(bytes)}`).join(', ')}. Make those smaller`,
  );
}
