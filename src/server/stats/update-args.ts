import type { LinuxContainerResources__Output } from '../../cri/generated/runtime/v1/LinuxContainerResources.js';
import { resourceArgs } from '../../docker/container-args.js';
import type { HostCapabilities } from '../../docker/host-grants.js';

/** Flags `docker update` accepts among those resourceArgs makes (it has no --oom-score-adj). */
const UPDATABLE = new Set(['--cpu-period', '--cpu-quota', '--cpu-shares', '--memory', '--memory-swap', '--cpuset-cpus', '--cpuset-mems']);

/**
 * `docker update` flags for new CRI Linux resources: the same flags as at create (resourceArgs),
 * without those Docker cannot change on an existing container, which become warnings. Pure.
 */
export function updateArgs(resources: LinuxContainerResources__Output, host: HostCapabilities, warnings: string[]): string[] {
  const all = resourceArgs(resources, host, warnings);
  const args: string[] = [];
  for (let i = 0; i < all.length; i += 2) {
    const flag = all[i]!;
    const value = all[i + 1]!;
    if (UPDATABLE.has(flag)) args.push(flag, value);
    else warnings.push(`${flag.replace(/^--/, '').replace(/-/g, '_')} ${value} is not applied: Docker cannot change it on an existing container`);
  }
  return args;
}
