import { isIP } from 'node:net';
import { invalidArgument } from '../common/errors.js';
import { truncateUtf8 } from '../common/utf8.js';
import { checkDockerArgs } from './arg-limits.js';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig.js';
import type { SecurityProfile__Output } from '../cri/generated/runtime/v1/SecurityProfile.js';
import { SANDBOX_OOM_SCORE_ADJ, type HostCapabilities } from './host-grants.js';
import { dockerCgroupParent } from './cgroup-parent.js';

/** The docker arguments for a sandbox's pause container, and what was adapted to the host. */
export interface SandboxRunPlan {
  /** Arguments after `docker run --detach`. */
  args: string[];
  /** Settings the host could not grant, replaced by the closest allowed one (logged as warnings). */
  warnings: string[];
  /** True when `privileged` was asked and granted by a substitute instead of --privileged. */
  privilegedSubstituted: boolean;
}

export interface SandboxRunInput {
  config: PodSandboxConfig__Output;
  name: string;
  image: string;
  host: HostCapabilities;
  /** Docker's runtime name for the pod's runtime handler, if not the default. */
  dockerRuntime?: string;
}

const PROTOCOLS: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** Builds `docker run` arguments from a PodSandboxConfig (pure; throws INVALID_ARGUMENT naming what cannot be honoured). */
export function sandboxRunPlan(input: SandboxRunInput): SandboxRunPlan {
  const { config, host } = input;
  const args: string[] = ['--name', input.name, '--restart', 'no', '--log-driver', 'none'];
  const warnings: string[] = [];
  const linux = config.linux;
  const security = linux?.securityContext;
  const ns = security?.namespaceOptions;

  // Namespaces.
  const network = ns?.network ?? 'POD';
  if (network === 'NODE') args.push('--network', 'host');
  else if (network !== 'POD') throw invalidArgument(`linux.security_context.namespace_options.network: mode ${network} is not valid for a pod sandbox (use POD or NODE)`);
  const pid = ns?.pid ?? 'POD';
  if (pid === 'NODE') args.push('--pid', 'host');
  else if (pid === 'TARGET') throw invalidArgument('linux.security_context.namespace_options.pid: mode TARGET is not valid for a pod sandbox');
  const ipc = ns?.ipc ?? 'POD';
  if (ipc === 'NODE') args.push('--ipc', 'host');
  else if (ipc === 'POD' || ipc === 'CONTAINER') args.push('--ipc', 'shareable');
  else throw invalidArgument(`linux.security_context.namespace_options.ipc: mode ${ipc} is not valid for a pod sandbox`);
  const userns = ns?.usernsOptions?.mode;
  if (userns && userns !== 'NODE') {
    throw invalidArgument(`linux.security_context.namespace_options.userns_options: mode ${userns} (a pod user namespace) cannot be honoured: Docker has no per-container user namespace mapping`);
  }

  // Identity and DNS; resolv.conf is words on lines, so no DNS value may hold white space.
  if (config.hostname) {
    const bytes = Buffer.byteLength(config.hostname, 'utf8');
    if (bytes > HOST_NAME_MAX) throw invalidArgument(`hostname is ${bytes} bytes; Linux takes host names of at most ${HOST_NAME_MAX} (HOST_NAME_MAX)`);
    if (/[\s\0]/.test(config.hostname)) throw invalidArgument(`hostname ${quoted(config.hostname)} holds white space or a NUL byte`);
    args.push('--hostname', config.hostname);
  }
  for (const [i, server] of (config.dnsConfig?.servers ?? []).entries()) {
    if (isIP(server) === 0) throw invalidArgument(`dns_config.servers[${i}] ${quoted(server)} is not an IP address`);
    args.push('--dns', server);
  }
  for (const [i, search] of (config.dnsConfig?.searches ?? []).entries()) {
    if (Buffer.byteLength(search, 'utf8') > DOMAIN_NAME_MAX + 1) throw invalidArgument(`dns_config.searches[${i}] is ${Buffer.byteLength(search, 'utf8')} bytes; a domain name takes at most ${DOMAIN_NAME_MAX}`);
    if (search === '' || /[\s\0]/.test(search)) throw invalidArgument(`dns_config.searches[${i}] ${quoted(search)} is empty or holds white space`);
    args.push('--dns-search', search);
  }
  for (const [i, option] of (config.dnsConfig?.options ?? []).entries()) {
    if (option === '' || /[\s\0]/.test(option)) throw invalidArgument(`dns_config.options[${i}] ${quoted(option)} is empty or holds white space, which would change other lines of resolv.conf`);
    args.push('--dns-option', option);
  }

  // Ports.
  for (const [i, port] of (config.portMappings ?? []).entries()) {
    const proto = PROTOCOLS[String(port.protocol)];
    if (!proto) throw invalidArgument(`port_mappings[${i}].protocol: ${port.protocol} is not supported`);
    if (!Number.isInteger(port.containerPort) || port.containerPort <= 0 || port.containerPort > 65535) {
      throw invalidArgument(`port_mappings[${i}].container_port: ${port.containerPort} is not a port number (1-65535)`);
    }
    if (!Number.isInteger(port.hostPort) || port.hostPort < 0 || port.hostPort > 65535) throw invalidArgument(`port_mappings[${i}].host_port: ${port.hostPort} is not a port number`);
    if (port.hostIp && isIP(port.hostIp.replace(/^\[(.*)\]$/, '$1')) === 0) throw invalidArgument(`port_mappings[${i}].host_ip ${quoted(port.hostIp)} is not an IP address`);
    if (network === 'NODE') {
      if (port.hostPort > 0 && port.hostPort !== port.containerPort) {
        throw invalidArgument(`port_mappings[${i}]: host_port ${port.hostPort} differs from container_port ${port.containerPort}, which host networking cannot do`);
      }
      continue; // with host networking the pod's ports are the host's
    }
    if (port.hostPort > 0) args.push('--publish', `${port.hostIp ? `${bracketIpv6(port.hostIp)}:` : ''}${port.hostPort}:${port.containerPort}/${proto}`);
    else args.push('--expose', `${port.containerPort}/${proto}`);
  }

  // Cgroups and sysctls.
  if (linux?.cgroupParent) args.push('--cgroup-parent', dockerCgroupParent(linux.cgroupParent, host.cgroupDriver));
  for (const key of Object.keys(linux?.sysctls ?? {}).sort()) {
    if (!/^[A-Za-z0-9_./-]+$/.test(key)) throw invalidArgument(`linux.sysctls: the name ${quoted(key)} is not a sysctl name (letters, digits, ".", "/", "_" and "-")`);
    if (linux!.sysctls[key]!.includes('\0')) throw invalidArgument(`linux.sysctls[${quoted(key)}] holds a NUL byte`);
    args.push('--sysctl', `${key}=${linux!.sysctls[key]}`);
  }

  // Security context.
  let privilegedSubstituted = false;
  if (security) {
    if (security.runAsUser) args.push('--user', security.runAsGroup ? `${security.runAsUser.value}:${security.runAsGroup.value}` : String(security.runAsUser.value));
    else if (security.runAsGroup) throw invalidArgument('linux.security_context.run_as_group is set without run_as_user, which Docker cannot express');
    for (const group of security.supplementalGroups ?? []) args.push('--group-add', String(group));
    if (security.supplementalGroupsPolicy === 'Strict') {
      throw invalidArgument('linux.security_context.supplemental_groups_policy Strict cannot be honoured: Docker always merges the groups from the image');
    }
    if (security.readonlyRootfs) args.push('--read-only');
    if (security.privileged) {
      if (host.privilegedAllowed) args.push('--privileged');
      else {
        privilegedSubstituted = true;
        args.push(...privilegedSubstitute(host));
        warnings.push(`privileged was asked, but this host lacks ${host.missingCapabilities.join(', ')}: the sandbox gets every capability the host grants, unconfined seccomp/apparmor and the host's devices instead of --privileged`);
      }
    }
    if (!security.privileged || host.privilegedAllowed) {
      args.push(...seccompArgs(security.seccomp, security.seccompProfilePath, host, 'linux.security_context'));
      args.push(...apparmorArgs(security.apparmor, host, 'linux.security_context'));
    }
    const selinux = security.selinuxOptions;
    if (selinux && (selinux.user || selinux.role || selinux.type || selinux.level)) {
      if (host.selinux) {
        if (selinux.user) args.push('--security-opt', `label=user:${selinux.user}`);
        if (selinux.role) args.push('--security-opt', `label=role:${selinux.role}`);
        if (selinux.type) args.push('--security-opt', `label=type:${selinux.type}`);
        if (selinux.level) args.push('--security-opt', `label=level:${selinux.level}`);
      } else warnings.push('selinux_options were given but SELinux is not enabled in Docker on this host; they are ignored');
    }
  }

  // No security context is no seccomp profile either: unconfined, as with an empty one.
  if (!security) args.push(...seccompArgs(null, '', host, 'linux.security_context'));

  // The sandbox is the last thing the OOM killer should pick, as far as the host allows.
  const oom = Math.max(SANDBOX_OOM_SCORE_ADJ, host.minOomScoreAdj);
  if (oom !== SANDBOX_OOM_SCORE_ADJ) {
    warnings.push(`oom_score_adj ${SANDBOX_OOM_SCORE_ADJ} is not allowed on this host (no CAP_SYS_RESOURCE); using ${oom}, the lowest it allows`);
  }
  if (oom !== 0) args.push('--oom-score-adj', String(oom));

  if (input.dockerRuntime) args.push('--runtime', input.dockerRuntime);
  args.push(input.image);
  checkDockerArgs(args, { flags: SANDBOX_ARG_FIELDS, positionalFrom: args.length - 1, positional: 'the pause image' });
  return { args, warnings, privilegedSubstituted };
}

/** Linux's longest host name (HOST_NAME_MAX). */
const HOST_NAME_MAX = 64;
/** The longest domain name (RFC 1035), without its final dot. */
const DOMAIN_NAME_MAX = 253;

/** The CRI field behind each `docker run` flag of a sandbox, for messages about the arguments' size. */
const SANDBOX_ARG_FIELDS: Record<string, string> = {
  '--hostname': 'hostname',
  '--dns': 'dns_config.servers',
  '--dns-search': 'dns_config.searches',
  '--dns-option': 'dns_config.options',
  '--publish': 'port_mappings',
  '--expose': 'port_mappings',
  '--sysctl': 'linux.sysctls',
  '--cgroup-parent': 'linux.cgroup_parent',
  '--security-opt': 'linux.security_context',
  '--group-add': 'linux.security_context.supplemental_groups',
};

/** A user string cut for a message. */
function shorten(value: string): string {
  return Buffer.byteLength(value, 'utf8') > 100 ? `${truncateUtf8(value, 100)}...` : value;
}

/** A user string for a message: cut, quoted, line breaks escaped. */
function quoted(value: string): string {
  return JSON.stringify(shorten(value));
}

/** Docker arguments granting what --privileged would, within what the host allows. */
export function privilegedSubstitute(host: HostCapabilities): string[] {
  const args: string[] = [];
  for (const cap of host.grantableCapabilities) args.push('--cap-add', cap.replace(/^CAP_/, ''));
  args.push('--security-opt', 'seccomp=unconfined');
  if (host.apparmor) args.push('--security-opt', 'apparmor=unconfined');
  args.push('--security-opt', 'systempaths=unconfined');
  for (const device of host.devices) args.push('--device', device);
  return args;
}

/**
 * --security-opt for a seccomp profile (the structured field wins over the deprecated path).
 * No profile at all means unconfined, as the CRI defines it (the kubelet sends RuntimeDefault
 * when a pod asks for the runtime's default) and as dockershim did.
 */
export function seccompArgs(profile: SecurityProfile__Output | null | undefined, legacyPath: string, host: HostCapabilities, field: string): string[] {
  let kind = profile?.profileType ?? (legacyPath ? 'RuntimeDefault' : 'Unconfined');
  let ref = profile?.localhostRef ?? '';
  if (!profile && legacyPath) {
    if (legacyPath === 'unconfined') kind = 'Unconfined';
    else if (legacyPath.startsWith('localhost/')) [kind, ref] = ['Localhost', legacyPath.slice('localhost/'.length)];
    else if (legacyPath !== 'runtime/default' && legacyPath !== 'docker/default') {
      throw invalidArgument(`${field}.seccomp_profile_path: "${legacyPath}" is not runtime/default, docker/default, unconfined or localhost/<path>`);
    }
  }
  if (kind === 'Unconfined') return host.seccomp ? ['--security-opt', 'seccomp=unconfined'] : [];
  if (kind === 'Localhost') {
    if (!host.seccomp) throw invalidArgument(`${field}.seccomp: a Localhost profile was asked but seccomp is not available in Docker on this host`);
    if (!ref.startsWith('/')) throw invalidArgument(`${field}.seccomp.localhost_ref: "${ref}" must be an absolute path to a seccomp profile`);
    return ['--security-opt', `seccomp=${ref}`];
  }
  return [];
}

/** --security-opt for an AppArmor profile. */
export function apparmorArgs(profile: SecurityProfile__Output | null | undefined, host: HostCapabilities, field: string): string[] {
  const kind = profile?.profileType ?? 'RuntimeDefault';
  if (kind === 'Unconfined') return host.apparmor ? ['--security-opt', 'apparmor=unconfined'] : [];
  if (kind === 'Localhost') {
    if (!host.apparmor) throw invalidArgument(`${field}.apparmor: profile "${profile?.localhostRef}" was asked but AppArmor is not available in Docker on this host`);
    const name = (profile?.localhostRef ?? '').replace(/^localhost\//, '');
    if (!name) throw invalidArgument(`${field}.apparmor.localhost_ref is empty`);
    return ['--security-opt', `apparmor=${name}`];
  }
  return [];
}

function bracketIpv6(ip: string): string {
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}
