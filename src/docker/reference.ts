/**
 * Docker image references, parsed the way Docker normalizes them
 * ("busybox" -> "docker.io/library/busybox:latest"). Pure functions.
 */
export interface ImageReference {
  /** Registry host, e.g. "docker.io" or "localhost:5000". */
  domain: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
/** The key Docker's config.json uses for Docker Hub credentials. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const ID = /^(sha256:)?[a-f0-9]{64}$/;

/** True for a full image ID ("sha256:<64 hex>" or 64 hex), which is never a name. */
export function isImageId(ref: string): boolean {
  return ID.test(ref);
}

/** Parses a reference; returns undefined when Docker would call it an invalid reference format. */
export function parseReference(ref: string): ImageReference | undefined {
  if (ref === '' || ref !== ref.trim()) return undefined;
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) return undefined;
  }
  if (rest === '') return undefined;
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = parts.shift()!;
    if (!/^[a-zA-Z0-9.-]+(:[0-9]+)?$/.test(domain) && !/^\[[0-9a-fA-F:]+\](:[0-9]+)?$/.test(domain)) return undefined;
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (parts.length === 0 || !parts.every((p) => PATH_COMPONENT.test(p))) return undefined;
  // Docker refuses a 64-hex repository name: it would read as an image ID.
  if (parts.length === 1 && /^[a-f0-9]{64}$/.test(parts[0]!) && domain === DEFAULT_DOMAIN && !tag && !digest) return undefined;
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  return { domain, path: parts.join('/'), tag, digest };
}

/** The name Docker shows in RepoTags/RepoDigests ("busybox", "localhost:5000/busybox"). */
export function familiarRepository(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
}

/** The familiar form with the tag Docker would add: "busybox" -> "busybox:latest". */
export function familiarTagged(ref: ImageReference): string {
  if (ref.digest && !ref.tag) return `${familiarRepository(ref)}@${ref.digest}`;
  return `${familiarRepository(ref)}:${ref.tag ?? 'latest'}`;
}

/** The key under which Docker's config.json keeps credentials for this reference's registry. */
export function authConfigKey(ref: ImageReference): string {
  return ref.domain === DEFAULT_DOMAIN ? DOCKER_HUB_AUTH_KEY : ref.domain;
}

/** The names an image is known by, as Docker reports them. */
export interface ImageNames {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
}

/**
 * True when `ref` names this image: its ID or an ID prefix (with or without "sha256:"),
 * one of its tags, or one of its digests, in any form Docker normalizes to the same name.
 */
export function referenceMatchesImage(ref: string, image: ImageNames): boolean {
  return imageMatcher(ref)(image);
}

/** referenceMatchesImage for one `ref` and many images: the reference is parsed once. */
export function imageMatcher(ref: string): (image: ImageNames) => boolean {
  const hex = ref.replace(/^sha256:/, '');
  const idPrefix = /^[a-f0-9]{6,64}$/.test(hex) ? hex : undefined;
  const parsed = parseReference(ref);
  const digest = parsed?.digest ? `${familiarRepository(parsed)}@${parsed.digest}` : undefined;
  const tagged = parsed && !parsed.digest ? familiarTagged(parsed) : undefined;
  return (image) => {
    if (idPrefix !== undefined && image.Id.replace(/^sha256:/, '').startsWith(idPrefix)) return true;
    if (digest !== undefined) return (image.RepoDigests ?? []).includes(digest);
    return tagged !== undefined && (image.RepoTags ?? []).includes(tagged);
  };
}
