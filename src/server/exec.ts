import { GrpcCode, MascriError, failedPrecondition, invalidArgument, notFound } from '../common/errors.js';
import type { ExecSyncRequest__Output } from '../cri/generated/runtime/v1/ExecSyncRequest.js';
import type { ExecSyncResponse } from '../cri/generated/runtime/v1/ExecSyncResponse.js';
import { checkProcessCommand } from '../docker/arg-limits.js';
import type { ServerContext } from './context.js';
import { describeCommand, runWithErrorContext } from './errors.js';
import { findContainer } from './lookup.js';

/** Output ExecSync keeps per stream; past it the call fails rather than answering a truncated result. */
export const EXEC_SYNC_MAX_OUTPUT = 16 * 1024 * 1024;

/** ExecSync: run a command in a container, wait, answer its output and exit code. */
export class ExecService {
  constructor(private readonly ctx: ServerContext) {}

  async execSync(request: ExecSyncRequest__Output, signal: AbortSignal): Promise<ExecSyncResponse> {
    const id = request.containerId;
    if (!id) throw invalidArgument('container_id is empty');
    if (!request.cmd || request.cmd.length === 0) throw invalidArgument('cmd is empty: give the command to run');
    // What no process could be started with is refused before anything runs.
    checkProcessCommand('cmd', request.cmd);
    const timeoutSeconds = Number(request.timeout ?? 0);
    return runWithErrorContext(`running ${describeCommand(request.cmd)} in container "${id}"`, async () => {
      const container = await findContainer(this.ctx.store, id);
      if (!container) throw notFound(`no container with ID "${id}"`);
      if (!container.inspect.State.Running) throw failedPrecondition(`container "${container.inspect.Id}" is not running (it is ${container.inspect.State.Status})`);
      checkProcessCommand('cmd', request.cmd, container.inspect.Config?.Env ?? []);
      const result = await this.ctx.docker.sessions.execSync(container.inspect.Id, request.cmd, {
        timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined,
        maxBytes: EXEC_SYNC_MAX_OUTPUT,
        signal,
      });
      // A timeout, a cancel or too much output killed it, in the container too.
      if (result.killedInContainer > 0) this.ctx.log.debug('exec killed', { container: container.inspect.Id, killed: result.killedInContainer });
      if (result.timedOut) throw new MascriError(GrpcCode.DEADLINE_EXCEEDED, `the command did not finish within its timeout of ${timeoutSeconds} s and was killed`);
      if (result.outputTooLarge) {
        throw new MascriError(GrpcCode.RESOURCE_EXHAUSTED, `the command wrote more than ${EXEC_SYNC_MAX_OUTPUT / 1024 / 1024} MiB on one stream and was killed; use a streaming exec (mascri exec without -s) for large output`);
      }
      // Docker reports a command it could not start (exit 126/127) on either stream.
      const said = `${result.stdout.toString('utf8')}\n${result.stderr.toString('utf8')}`;
      const startFailure = /OCI runtime exec failed: (.*)/.exec(said);
      if ((result.exitCode === 126 || result.exitCode === 127) && startFailure) {
        throw new MascriError(GrpcCode.FAILED_PRECONDITION, `the command could not be started: ${startFailure[1]!.trim().replace(/^exec failed: /, '')}`);
      }
      return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
    });
  }
}
