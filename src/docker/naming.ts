/**
 * Docker container names of pods and containers, the scheme cri-dockerd and the kubelet's
 * dockershim used: k8s_POD_<pod>_<namespace>_<uid>_<attempt> for the sandbox's pause
 * container and k8s_<container>_<pod>_<namespace>_<uid>_<attempt> for a container. Pure.
 */
export const NAME_PREFIX = 'k8s';
export const SANDBOX_CONTAINER_NAME = 'POD';

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

/** The pause container's name for a sandbox. */
export function sandboxContainerName(meta: SandboxNameParts): string {
  return [NAME_PREFIX, SANDBOX_CONTAINER_NAME, meta.name, meta.namespace, meta.uid, String(meta.attempt)].map(sanitize).join('_');
}

/** A container's Docker name within its sandbox. */
export function containerName(container: ContainerNameParts, sandbox: SandboxNameParts): string {
  return [NAME_PREFIX, container.container, sandbox.name, sandbox.namespace, sandbox.uid, String(container.attempt)].map(sanitize).join('_');
}

/** Splits a name made by the functions above; undefined for any other name. */
export function parseContainerName(name: string): { container: string; pod: string; namespace: string; uid: string; attempt: number } | undefined {
  const parts = name.replace(/^\//, '').split('_');
  if (parts.length !== 6 || parts[0] !== NAME_PREFIX) return undefined;
  const attempt = Number(parts[5]);
  if (!Number.isInteger(attempt)) return undefined;
  return { container: parts[1]!, pod: parts[2]!, namespace: parts[3]!, uid: parts[4]!, attempt };
}
