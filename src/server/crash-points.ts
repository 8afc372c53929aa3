import type { Logger } from '../common/logger.js';
import type { DockerCliApi } from '../docker/adapter.js';

/**
 * Test-only: `MASCRI_TEST_KILL_AFTER=<step>` makes the server kill itself with SIGKILL the first
 * time it reaches that step, so a test can show what a crash at that moment leaves behind
 * (test/e2e/crash.test.ts). Unset, every step is a no-op.
 *
 * Steps named `docker-<verb>-spawned` are reached when the docker CLI of that call has started
 * (it lives on after the server dies); `docker-create-relayed` when the create relay has passed the
 * request on to the engine (the engine makes the container, the CLI never hears of it).
 */
export const KILL_AFTER_VAR = 'MASCRI_TEST_KILL_AFTER';

export const CRASH_STEPS = {
  RunPodSandbox: ['log-directory-made', 'docker-run-spawned', 'docker-run-done', 'stored'],
  CreateContainer: ['log-directory-made', 'docker-create-spawned', 'docker-create-relayed', 'docker-create-done', 'checked'],
  StartContainer: ['docker-start-spawned', 'docker-start-done', 'log-following'],
} as const;

export type CrashCall = keyof typeof CRASH_STEPS;
export type CrashStep<C extends CrashCall = CrashCall> = (typeof CRASH_STEPS)[C][number];

/** Every step as `Call/step`, in order. */
export const ALL_CRASH_STEPS: string[] = Object.entries(CRASH_STEPS).flatMap(([call, steps]) => steps.map((step) => `${call}/${step}`));

/** The docker CLI verb whose start or relay a step names, e.g. "docker-run-spawned" -> run. Pure. */
export function dockerStage(step: string): { verb: string; stage: 'spawned' | 'relayed' } | undefined {
  const match = /^docker-([a-z]+)-(spawned|relayed)$/.exec(step);
  return match ? { verb: match[1]!, stage: match[2] as 'spawned' | 'relayed' } : undefined;
}

/** Where the server may be killed for a test; created once per server from the environment. */
export class CrashPoints {
  private constructor(private readonly target: string | undefined) {}

  /** No step kills: what every real server uses. */
  static none(): CrashPoints {
    return new CrashPoints(undefined);
  }

  /** From MASCRI_TEST_KILL_AFTER; an unknown step is an error (a test that names a step must reach it). */
  static fromEnvironment(env: NodeJS.ProcessEnv, cli: Pick<DockerCliApi, 'onProgress'>, log: Logger): CrashPoints {
    const target = env[KILL_AFTER_VAR];
    if (!target) return CrashPoints.none();
    if (!ALL_CRASH_STEPS.includes(target)) throw new Error(`${KILL_AFTER_VAR}="${target}" is not a step; the steps are: ${ALL_CRASH_STEPS.join(', ')}`);
    log.warn('test hook set: this server kills itself at a step', { variable: KILL_AFTER_VAR, step: target });
    const points = new CrashPoints(target);
    const [, step] = target.split('/') as [string, string];
    const docker = dockerStage(step);
    if (docker) {
      cli.onProgress((stage, args) => {
        if (stage === docker.stage && args[0] === docker.verb) points.die();
      });
    }
    return points;
  }

  /** Called by a handler when it has done `step` of `call`. */
  reached<C extends CrashCall>(call: C, step: CrashStep<C>): void {
    if (this.target === `${call}/${step}`) this.die();
  }

  private die(): never {
    // Logged to stderr synchronously, so the test knows the step was reached.
    process.stderr.write(`mascri: ${KILL_AFTER_VAR}: killed at ${this.target}\n`);
    process.kill(process.pid, 'SIGKILL');
    throw new Error('unreachable');
  }
}
