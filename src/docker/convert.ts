import type { Image } from '../cri/generated/runtime/v1/Image.js';
import type { DockerImageInspect } from './types.js';

/** The image user as the CRI splits it: a numeric uid, or a user name (the group part is dropped). */
export function imageUser(user: string | undefined): { uid?: { value: string }; username: string } {
  const name = (user ?? '').split(':')[0]!.trim();
  if (name === '') return { username: '' };
  if (/^\d+$/.test(name)) return { uid: { value: name }, username: '' };
  return { username: name };
}

/** Docker's image inspect JSON -> CRI Image. `pinned` marks images the runtime must not garbage-collect. */
export function imageFromInspect(inspect: DockerImageInspect, pinned = false): Image {
  const user = imageUser(inspect.Config?.User);
  return {
    id: inspect.Id,
    repoTags: (inspect.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
    repoDigests: (inspect.RepoDigests ?? []).filter((digest) => !digest.startsWith('<none>@')),
    size: String(inspect.Size ?? 0),
    ...(user.uid ? { uid: user.uid } : {}),
    username: user.username,
    spec: { image: inspect.Id, annotations: {} },
    pinned,
  };
}

/** Docker's RFC 3339 timestamps ("2026-11-23T09:47:10.526351254Z") -> nanoseconds since the epoch, as a decimal string; "0" for Docker's zero time. */
export function dockerTimeToNanos(time: string | undefined): string {
  if (!time || time.startsWith('0001-01-01')) return '0';
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (!match) return '0';
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return '0';
  const fraction = (match[2] ?? '').padEnd(9, '0').slice(0, 9);
  return (BigInt(seconds) * 1_000_000n + BigInt(fraction)).toString();
}

/** Docker's container state -> the CRI's. */
export function containerState(state: { Status: string }): 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN' {
  switch (state.Status) {
    case 'created':
      return 'CONTAINER_CREATED';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'CONTAINER_RUNNING';
    case 'exited':
    case 'dead':
      return 'CONTAINER_EXITED';
    default:
      return 'CONTAINER_UNKNOWN';
  }
}

/** Why an exited container ended, in the words the kubelet uses. */
export function exitReason(state: { Status: string; OOMKilled: boolean; ExitCode: number }): string {
  if (containerState(state) !== 'CONTAINER_EXITED') return '';
  if (state.OOMKilled) return 'OOMKilled';
  return state.ExitCode === 0 ? 'Completed' : 'Error';
}
