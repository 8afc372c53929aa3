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
