import { isoTime } from '../common/time.js';
import type { DockerContainerInspect } from '../docker/types.js';

/** What a create or run knows of the container it made, before Docker is asked. */
export interface MadeContainer {
  id: string;
  /** The Docker name, without the leading "/". */
  name: string;
  /** The image as the request named it (Config.Image). */
  image: string;
  /** The image's ID ("sha256:..."), '' when unknown. */
  imageId: string;
  labels: Record<string, string>;
  /** True for `docker run` (created and started), false for `docker create`. */
  started: boolean;
  /** When the call that made it began. */
  at: Date;
}

const NEVER = '0001-01-01T00:00:00Z';

/**
 * The inspect a write can make up for a container it has just made (see
 * ContainerStore.settleInBackground): what lists show until Docker's own answer is in. Pure.
 */
export function madeInspect(made: MadeContainer): DockerContainerInspect {
  const at = isoTime(made.at);
  return {
    Id: made.id,
    Name: `/${made.name}`,
    Created: at,
    Image: made.imageId,
    State: {
      Status: made.started ? 'running' : 'created',
      Running: made.started,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 0,
      ExitCode: 0,
      Error: '',
      StartedAt: made.started ? at : NEVER,
      FinishedAt: NEVER,
    },
    Config: { Image: made.image, Labels: { ...made.labels } },
    HostConfig: {},
    NetworkSettings: { Networks: {} },
  };
}

/** The inspect a start can make up from the one held before it (running since `at`). Pure. */
export function startedInspect(before: DockerContainerInspect, at: Date): DockerContainerInspect {
  return {
    ...before,
    State: { ...before.State, Status: 'running', Running: true, Paused: false, Restarting: false, Dead: false, ExitCode: 0, Error: '', StartedAt: isoTime(at), FinishedAt: NEVER },
  };
}
