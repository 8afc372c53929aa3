import { invalidArgument } from '../common/errors.js';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig.js';
import type { LinuxContainerResources__Output } from '../cri/generated/runtime/v1/LinuxContainerResources.js';
import type { NamespaceOption__Output } from '../cri/generated/runtime/v1/NamespaceOption.js';
import type { HostCapabilities } from './host-grants.js';
import { dockerCgroupParent } from './cgroup-parent.js';
import { truncateUtf8 } from '../common/utf8.js';
import { ARGS_INLINE_MAX, PATH_MAX, checkDockerArgs, checkProcessString, checkProcessTotal, execveTotal, formatBytes } from './arg-limits.js';
import type { HostConfigExtras, ProcessConfig } from './create-relay.js';
import { apparmorArgs, privilegedSubstitute, seccompArgs } from './sandbox-args.js';

/** The docker arguments for a container, and what was adapted to the host. */
export interface ContainerCreatePlan {
  /** Arguments after `docker create`. */
  args: string[];
  /**
   * Fields the CLI has no flag for (masked and read-only paths, StdinOnce false), or too large for
   * its arguments (Env, Entrypoint and Cmd), set in its create request by the create relay.
   */
  hostConfig?: HostConfigExtras;
  warnings: string[];
}

export interface ContainerCreateInput {
  config: ContainerConfig__Output;
  name: string;
  /** The pause container the container joins. */
  sandboxId: string;
  /** The sandbox's namespace options (the container's own options win where set). */
  sandboxNamespaces: Partial<NamespaceOption__Output> | undefined;
  /** Image to run, as the CRI named it; Docker resolves it to an ID at create. */
  image: string;
  /** The pod's linux.cgroup_parent (as the CRI gives it): every container of the pod goes under it, as its pause container does. */
  cgroupParent?: string;
  host: HostCapabilities;
  dockerRuntime?: string;
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

/** Docker's default masked and read-only paths (what `docker run` applies without systempaths=unconfined). */
export const DOCKER_MASKED_PATHS = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
export const DOCKER_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Builds `docker create` arguments from a ContainerConfig (pure; throws INVALID_ARGUMENT naming what cannot be honoured). */
export function containerCreatePlan(input: ContainerCreateInput): ContainerCreatePlan {
  const { config, host } = input;
  const args: string[] = ['--name', input.name, '--restart', 'no', '--network', `container:${input.sandboxId}`];
  const warnings: string[] = [];
  const security = config.linux?.securityContext;
  let hostConfig: HostConfigExtras | undefined;

  // Namespaces: the container's own options, else the sandbox's.
  const ns = security?.namespaceOptions ?? input.sandboxNamespaces;
  const pid = ns?.pid ?? 'POD';
  if (pid === 'POD') args.push('--pid', `container:${input.sandboxId}`);
  else if (pid === 'NODE') args.push('--pid', 'host');
  else if (pid === 'TARGET') {
    if (!ns?.targetId) throw invalidArgument('linux.security_context.namespace_options.target_id is empty but pid mode is TARGET');
    args.push('--pid', `container:${ns.targetId}`);
  }
  const ipc = ns?.ipc ?? 'POD';
  if (ipc === 'POD') args.push('--ipc', `container:${input.sandboxId}`);
  else if (ipc === 'NODE') args.push('--ipc', 'host');
  else if (ipc === 'CONTAINER') args.push('--ipc', 'private');
  else throw invalidArgument(`linux.security_context.namespace_options.ipc: mode ${ipc} is not valid for a container`);

  // What runs, checked against what the kernel starts a process with (the same limits bind docker's arguments).
  const command = config.command ?? [];
  const commandArgs = config.args ?? [];
  for (const [i, part] of command.entries()) checkProcessString(`command[${i}]`, part);
  for (const [i, part] of commandArgs.entries()) checkProcessString(`args[${i}]`, part);
  const env = (config.envs ?? []).map((entry, i) => {
    if (!entry.key) throw invalidArgument(`envs[${i}].key is empty`);
    if (entry.key.includes('=')) throw invalidArgument(`envs[${i}].key ${quoted(entry.key)} holds "=", which would end the variable's name there`);
    const variable = `${entry.key}=${bytesToString(entry.value)}`;
    checkProcessString(`envs[${i}] (${shorten(entry.key)}=...)`, variable);
    return variable;
  });
  checkProcessTotal('envs, command and args', execveTotal(env) + execveTotal(command) + execveTotal(commandArgs));
  if (config.workingDir) args.push('--workdir', checkPath('working_dir', config.workingDir));

  // Terminal and stdin.
  if (config.stdin) args.push('--interactive');
  if (config.stdin && config.stdinOnce) args.push('--attach', 'stdin');
  if (config.tty) args.push('--tty');

  // Mounts and devices.
  for (const [i, mount] of (config.mounts ?? []).entries()) {
    const field = `mounts[${i}]`;
    checkPath(`${field}.container_path`, mount.containerPath);
    if (mount.image?.image) throw invalidArgument(`${field}.image: image volumes cannot be honoured: Docker 20.10 cannot mount an image`);
    if ((mount.uidMappings ?? []).length > 0 || (mount.gidMappings ?? []).length > 0) throw invalidArgument(`${field}.uid_mappings/gid_mappings: idmapped mounts cannot be honoured by Docker`);
    // Status advertises features.mount_options false; a client that sends them anyway is refused rather than ignored.
    if ((mount.mountOptions ?? []).length > 0) throw invalidArgument(`${field}.mount_options ${JSON.stringify(mount.mountOptions)} cannot be honoured: Docker's bind mounts take no noexec, nodev or nosuid`);
    checkPath(`${field}.host_path`, mount.hostPath);
    // --mount is a CSV record: fields holding a comma, a quote or a line break are quoted. Go's CSV
    // reader turns a quoted "\r\n" into "\n", so a carriage return cannot be passed.
    for (const [name, path] of [['host_path', mount.hostPath], ['container_path', mount.containerPath]] as const) {
      if (path.includes('\r')) throw invalidArgument(`${field}.${name} ${quoted(path)} holds a carriage return, which cannot be passed to Docker`);
    }
    const options = [`type=bind`, csvField(`source=${mount.hostPath}`), csvField(`target=${mount.containerPath}`)];
    if (mount.readonly) options.push('readonly');
    const propagation = PROPAGATION[String(mount.propagation)] ?? 'rprivate';
    options.push(`bind-propagation=${propagation}`);
    if (mount.selinuxRelabel && host.selinux) {
      // --mount cannot relabel; -v can (":z" shares the label with other containers, as the kubelet expects).
      if (/[,:\n]/.test(mount.hostPath + mount.containerPath)) throw invalidArgument(`${field}: with selinux_relabel, paths holding a comma, a colon or a line break cannot be passed to Docker`);
      args.push('--volume', `${mount.hostPath}:${mount.containerPath}:${mount.readonly ? 'ro' : 'rw'},z,${propagation}`);
      continue;
    }
    args.push('--mount', options.join(','));
  }
  for (const [i, device] of (config.devices ?? []).entries()) {
    if (!device.hostPath || !device.containerPath) throw invalidArgument(`devices[${i}]: host_path and container_path are required`);
    for (const [name, path] of [['host_path', device.hostPath], ['container_path', device.containerPath]] as const) {
      checkPath(`devices[${i}].${name}`, path);
      if (path.includes(':')) throw invalidArgument(`devices[${i}].${name} ${quoted(path)} holds a colon, which Docker's --device cannot take`);
    }
    if (!/^[rwm]{0,3}$/.test(device.permissions ?? '')) throw invalidArgument(`devices[${i}].permissions ${quoted(device.permissions)} must be made of r, w and m`);
    args.push('--device', `${device.hostPath}:${device.containerPath}${device.permissions ? `:${device.permissions}` : ''}`);
  }
  if ((config.CDIDevices ?? []).length > 0) throw invalidArgument('CDI_devices cannot be honoured: Docker 20.10 has no CDI support');

  // Resources, in the pod's cgroup.
  if (input.cgroupParent) args.push('--cgroup-parent', dockerCgroupParent(input.cgroupParent, host.cgroupDriver));
  const resources = config.linux?.resources;
  if (resources) args.push(...resourceArgs(resources, host, warnings));

  // Security context.
  if (security) {
    if (security.runAsUsername && security.runAsUser) throw invalidArgument('linux.security_context: run_as_user and run_as_username are both set');
    const user = security.runAsUser ? String(security.runAsUser.value) : security.runAsUsername;
    if (user) args.push('--user', security.runAsGroup ? `${user}:${security.runAsGroup.value}` : user);
    else if (security.runAsGroup) throw invalidArgument('linux.security_context.run_as_group is set without run_as_user or run_as_username, which Docker cannot express');
    for (const group of security.supplementalGroups ?? []) args.push('--group-add', String(group));
    if (security.supplementalGroupsPolicy === 'Strict') throw invalidArgument('linux.security_context.supplemental_groups_policy Strict cannot be honoured: Docker always merges the groups from the image');
    if (security.readonlyRootfs) args.push('--read-only');
    if (security.noNewPrivs) args.push('--security-opt', 'no-new-privileges');
    const caps = security.capabilities;
    if ((caps?.addAmbientCapabilities ?? []).length > 0) throw invalidArgument('linux.security_context.capabilities.add_ambient_capabilities cannot be honoured by Docker');
    if (security.privileged) {
      if (host.privilegedAllowed) args.push('--privileged');
      else {
        args.push(...privilegedSubstitute(host));
        warnings.push(`privileged was asked, but this host lacks ${host.missingCapabilities.join(', ')}: the container gets every capability the host grants, unconfined seccomp/apparmor and the host's devices instead of --privileged`);
      }
    } else {
      for (const cap of caps?.addCapabilities ?? []) for (const name of capabilityArgs(cap, host, warnings)) args.push('--cap-add', name);
      for (const cap of caps?.dropCapabilities ?? []) args.push('--cap-drop', normalizeCapability(cap));
      args.push(...seccompArgs(security.seccomp, security.seccompProfilePath, host, 'linux.security_context'));
      const legacyApparmor = !security.apparmor && security.apparmorProfile ? legacyApparmorProfile(security.apparmorProfile) : security.apparmor;
      args.push(...apparmorArgs(legacyApparmor, host, 'linux.security_context'));
      hostConfig = systemPaths(security.maskedPaths ?? [], security.readonlyPaths ?? []);
    }
    const selinux = security.selinuxOptions;
    if (selinux && (selinux.user || selinux.role || selinux.type || selinux.level)) {
      if (host.selinux) {
        for (const [key, value] of Object.entries({ user: selinux.user, role: selinux.role, type: selinux.type, level: selinux.level })) {
          if (value) args.push('--security-opt', `label=${key}:${value}`);
        }
      } else warnings.push('selinux_options were given but SELinux is not enabled in Docker on this host; they are ignored');
    }
  }

  // No security context is no seccomp profile either: unconfined, as with an empty one.
  if (!security) args.push(...seccompArgs(null, '', host, 'linux.security_context'));

  if (input.dockerRuntime) args.push('--runtime', input.dockerRuntime);

  // Command overrides the image's entrypoint, args its cmd (Kubernetes semantics), as `--entrypoint`
  // and the positional arguments set them; too large for arguments, the same go in the request's body.
  const [entrypoint, ...entrypointRest] = command;
  const cmd = [...entrypointRest, ...commandArgs];
  const processArgs = [...env.flatMap((variable) => ['--env', variable]), ...(entrypoint !== undefined ? ['--entrypoint', entrypoint] : [])];
  let processConfig: ProcessConfig | undefined;
  if (execveTotal(args) + execveTotal(processArgs) + execveTotal([input.image, ...cmd]) > ARGS_INLINE_MAX) {
    processConfig = { Env: env, ...(entrypoint !== undefined ? { Entrypoint: [entrypoint] } : {}), ...(cmd.length > 0 ? { Cmd: cmd } : {}) };
    args.push(input.image);
  } else args.push(...processArgs, input.image, ...cmd);
  checkDockerArgs(args, { flags: CONTAINER_ARG_FIELDS, positionalFrom: args.length - (processConfig ? 0 : cmd.length) - 1, positional: 'command and args' });
  if (processConfig) hostConfig = { ...hostConfig, Config: processConfig };
  // `docker create -i` always sets StdinOnce; stdin without stdin_once must stay open across attaches.
  if (config.stdin && !config.stdinOnce) hostConfig = { ...hostConfig, Config: { ...hostConfig?.Config, StdinOnce: false } };
  return { args, hostConfig, warnings };
}

/** The CRI field behind each `docker create` flag, for messages about the arguments' size. */
const CONTAINER_ARG_FIELDS: Record<string, string> = {
  '--env': 'envs',
  '--entrypoint': 'command',
  '--workdir': 'working_dir',
  '--mount': 'mounts',
  '--volume': 'mounts',
  '--device': 'devices',
  '--cgroup-parent': 'linux.cgroup_parent',
  '--user': 'linux.security_context.run_as_username',
  '--group-add': 'linux.security_context.supplemental_groups',
  '--cap-add': 'linux.security_context.capabilities',
  '--cap-drop': 'linux.security_context.capabilities',
  '--security-opt': 'linux.security_context',
  '--cpuset-cpus': 'linux.resources.cpuset_cpus',
  '--cpuset-mems': 'linux.resources.cpuset_mems',
};

/** `path` when it is absolute and within PATH_MAX; INVALID_ARGUMENT naming `field` otherwise. */
function checkPath(field: string, path: string): string {
  if (!path.startsWith('/')) throw invalidArgument(`${field} ${quoted(path)} must be absolute`);
  if (path.includes('\0')) throw invalidArgument(`${field} holds a NUL byte, which no path can`);
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes + 1 > PATH_MAX) throw invalidArgument(`${field} is ${bytes} bytes (${formatBytes(bytes)}); Linux takes paths of at most ${PATH_MAX - 1} bytes (PATH_MAX)`);
  return path;
}

/** One field of a CSV record as Go's encoding/csv reads it (docker's --mount): quoted when it must be. */
export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** A user string cut for a message. */
function shorten(value: string): string {
  return Buffer.byteLength(value, 'utf8') > 100 ? `${truncateUtf8(value, 100)}...` : value;
}

/** A user string for a message: cut, quoted, line breaks escaped. */
function quoted(value: string): string {
  return JSON.stringify(shorten(value));
}

/** Docker flags for CRI Linux resources; also used by UpdateContainerResources. */
export function resourceArgs(resources: LinuxContainerResources__Output, host: HostCapabilities, warnings: string[]): string[] {
  const args: string[] = [];
  const positive = (value: string | undefined) => value !== undefined && value !== '' && BigInt(value) > 0n;
  if (positive(resources.cpuPeriod)) args.push('--cpu-period', resources.cpuPeriod);
  if (positive(resources.cpuQuota)) args.push('--cpu-quota', resources.cpuQuota);
  if (positive(resources.cpuShares)) args.push('--cpu-shares', resources.cpuShares);
  if (positive(resources.memoryLimitInBytes)) {
    args.push('--memory', resources.memoryLimitInBytes);
    // Without an explicit swap limit Docker would allow twice the memory as swap; the kubelet expects none unless asked.
    args.push('--memory-swap', positive(resources.memorySwapLimitInBytes) ? resources.memorySwapLimitInBytes : resources.memoryLimitInBytes);
  }
  if (resources.cpusetCpus) args.push('--cpuset-cpus', resources.cpusetCpus);
  if (resources.cpusetMems) args.push('--cpuset-mems', resources.cpusetMems);
  const oom = Number(resources.oomScoreAdj || 0);
  if (oom !== 0) {
    const allowed = Math.max(oom, host.minOomScoreAdj);
    if (allowed !== oom) warnings.push(`oom_score_adj ${oom} is not allowed on this host (no CAP_SYS_RESOURCE); using ${allowed}, the lowest it allows`);
    if (allowed !== 0) args.push('--oom-score-adj', String(allowed));
  }
  for (const limit of resources.hugepageLimits ?? []) {
    if (positive(limit.limit)) throw invalidArgument(`linux.resources.hugepage_limits (${limit.pageSize}): Docker cannot limit hugepages`);
  }
  for (const key of Object.keys(resources.unified ?? {})) {
    if (key === 'memory.oom.group') warnings.push('linux.resources.unified memory.oom.group is ignored: Docker cannot set it');
    else throw invalidArgument(`linux.resources.unified "${key}": Docker cannot set arbitrary cgroup v2 files`);
  }
  return args;
}

/** "CAP_NET_ADMIN", "net_admin" or "NET_ADMIN" -> "NET_ADMIN"; "ALL" stays "ALL". */
export function normalizeCapability(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, '');
}

/** The --cap-add values for one requested capability ("ALL" becomes every capability the host grants, when it lacks some). */
function capabilityArgs(cap: string, host: HostCapabilities, warnings: string[]): string[] {
  const name = normalizeCapability(cap);
  if (name === 'ALL') {
    if (host.privilegedAllowed) return ['ALL'];
    warnings.push(`capability ALL includes ${host.missingCapabilities.join(', ')}, which this host does not grant; adding the others`);
    return host.grantableCapabilities.map((c) => c.replace(/^CAP_/, ''));
  }
  if (!host.capabilities.includes(`CAP_${name}`)) {
    throw invalidArgument(`linux.security_context.capabilities.add_capabilities: CAP_${name} is not in this host's capability bounding set`);
  }
  return [name];
}

function legacyApparmorProfile(profile: string): { profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostRef: string } {
  if (profile === 'unconfined') return { profileType: 'Unconfined', localhostRef: '' };
  if (profile.startsWith('localhost/')) return { profileType: 'Localhost', localhostRef: profile.slice('localhost/'.length) };
  return { profileType: 'RuntimeDefault', localhostRef: '' };
}

/**
 * Masked and read-only paths as Docker's HostConfig takes them, or undefined when Docker's defaults
 * are what was asked. An empty list keeps Docker's default for that list (as containerd and cri-dockerd
 * do: the CRI cannot tell an empty list from an absent one); a privileged container gets neither.
 */
export function systemPaths(masked: readonly string[], readonly: readonly string[]): HostConfigExtras | undefined {
  const extras: HostConfigExtras = {};
  for (const [field, paths] of [['masked_paths', masked], ['readonly_paths', readonly]] as const) {
    for (const [i, path] of paths.entries()) {
      if (!path.startsWith('/') || path.includes('\0')) throw invalidArgument(`linux.security_context.${field}[${i}] "${path}" must be an absolute path`);
    }
  }
  if (masked.length > 0 && !sameSet(masked, DOCKER_MASKED_PATHS)) extras.MaskedPaths = [...masked];
  if (readonly.length > 0 && !sameSet(readonly, DOCKER_READONLY_PATHS)) extras.ReadonlyPaths = [...readonly];
  return Object.keys(extras).length > 0 ? extras : undefined;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((item) => left.has(item));
}

function bytesToString(value: Buffer | string | Uint8Array | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return Buffer.from(value).toString('utf8');
}
