/**
 * Docker container names of pods and containers, the scheme cri-dockerd and the kubelet's
 * dockershim used: k8s_POD_<pod>_<namespace>_<uid>_<attempt> for the sandbox's pause
 * container and k8s_<container>_<pod>_<namespace>_<uid>_<attempt> for a container.
 *
 * A server with an instance name (`mascri serve --instance NAME`, one per node on a shared
 * engine) appends it as a seventh part: k8s_POD_<pod>_<namespace>_<uid>_<attempt>_<NAME>, so two
 * nodes never collide on a name. dockershim's and cri-dockerd's parsers accept that seventh part
 * (they took it for the random suffix old Docker versions needed), and an instance name is a DNS
 * label, without "_", so the parts stay unambiguous. The default instance keeps six parts. Pure.
 */
import { invalidArgument } from '../common/errors.js';

export const NAME_PREFIX = 'k8s';
export const SANDBOX_CONTAINER_NAME = 'POD';
/** Longest instance name: a DNS label's 63 characters. */
export const INSTANCE_NAME_MAX = 63;

export interface SandboxNameParts {
  name: string;
  namespace: string;
  uid: string;
  attempt: number;
}

export interface ContainerNameParts {
  container: string;
  attempt: number;
}

/** Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]; anything else becomes "-" (names from Kubernetes are already DNS-safe). */
function sanitize(part: string): string {
  return part.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** The pause container's name for a sandbox; `instance` ('' the default) is appended when set. */
export function sandboxContainerName(meta: SandboxNameParts, instance = ''): string {
  return withInstance([NAME_PREFIX, SANDBOX_CONTAINER_NAME, meta.name, meta.namespace, meta.uid, String(meta.attempt)].map(sanitize).join('_'), instance);
}

/** A container's Docker name within its sandbox; `instance` ('' the default) is appended when set. */
export function containerName(container: ContainerNameParts, sandbox: SandboxNameParts, instance = ''): string {
  return withInstance([NAME_PREFIX, container.container, sandbox.name, sandbox.namespace, sandbox.uid, String(container.attempt)].map(sanitize).join('_'), instance);
}

function withInstance(name: string, instance: string): string {
  return instance ? `${name}_${instance}` : name;
}

/** What is wrong with `name` as an instance name (a DNS label: a-z, 0-9 and "-", 1-63 long, alphanumeric at both ends); undefined when fine. */
export function instanceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > INSTANCE_NAME_MAX) return `it is ${name.length} characters long, more than ${INSTANCE_NAME_MAX}`;
  const bad = /[^a-z0-9-]/.exec(name);
  if (bad) return `it holds ${JSON.stringify(bad[0])}; only lowercase letters, digits and "-" are allowed`;
  if (name.startsWith('-') || name.endsWith('-')) return 'it starts or ends with "-"';
  return undefined;
}

/** The instance name, checked; '' stays the default instance. Throws INVALID_ARGUMENT naming what is wrong. */
export function checkInstanceName(name: string): string {
  if (name === '') return '';
  const problem = instanceNameProblem(name);
  if (problem) {
    throw invalidArgument(`instance name ${JSON.stringify(name.slice(0, 100))} is not valid: ${problem} (a DNS label, e.g. "node-a", as Kubernetes node names are)`);
  }
  return name;
}
