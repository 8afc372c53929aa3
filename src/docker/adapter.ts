import type { Logger } from '../common/logger.js';
import { DockerCli } from './cli.js';
import { DockerContainers } from './containers.js';
import { DockerImages } from './images.js';
import { DockerSystem } from './system.js';

/** Everything the server asks of Docker, in one object handed to the server. */
export interface DockerAdapter {
  readonly cli: DockerCli;
  readonly images: DockerImages;
  readonly system: DockerSystem;
  readonly containers: DockerContainers;
}

/** The real adapter: every call goes through the docker CLI at `binary`. */
export function createDockerAdapter(binary = 'docker', log?: Logger): DockerAdapter {
  const cli = new DockerCli(binary, log);
  return { cli, images: new DockerImages(cli), system: new DockerSystem(cli), containers: new DockerContainers(cli) };
}
