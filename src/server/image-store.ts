import type { Logger } from '../common/logger.js';
import type { DockerAdapter } from '../docker/adapter.js';
import type { DockerEvent } from '../docker/events.js';
import { imageMatcher, isImageId, referenceMatchesImage } from '../docker/reference.js';
import type { DockerImageInspect } from '../docker/types.js';
import { FollowedStream } from './followed-stream.js';

/** How long image events are gathered before one inspect looks at every image they name. */
const EVENT_COALESCE_MS = 50;
/** Image events that change what the CRI reports (push, save and prune summaries do not). */
const CHANGING_ACTIONS = new Set(['pull', 'tag', 'untag', 'delete', 'import', 'load', 'create']);
/** How many references' answers find keeps (a bound against a caller asking for endless names). */
const MAX_RESOLVED_REFS = 1000;

/**
 * Docker's images in memory: loaded with one listing at start, then kept current from one
 * `docker events --filter type=image` stream (restarted, with a full reload, when it breaks), and
 * by mascri's own pulls and removals. ListImages and ImageStatus read it and run no docker.
 *
 * It is only "current" while its event stream runs and a listing has been loaded since it
 * started: otherwise (a daemon that is down) callers ask Docker, and get Docker's error.
 *
 * Every look at Docker runs in one queue, so a look that started later always lands later.
 */
export class ImageStore {
  private readonly byId = new Map<string, DockerImageInspect>();
  private readonly events: FollowedStream;
  private queue: Promise<unknown> = Promise.resolve();
  /** Names or IDs from events waiting for a look. */
  private pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private streaming = false;
  private loaded = false;
  private changes = 0;
  /** What find answered for each reference since the last change. */
  private resolved = { version: -1, byRef: new Map<string, DockerImageInspect | undefined>() };

  constructor(
    private readonly docker: DockerAdapter,
    private readonly log: Logger,
  ) {
    this.events = new FollowedStream(docker.events.followImages(), {
      log,
      onEvent: (event) => this.onEvent(event),
      onStart: () => (this.streaming = true),
      onEnd: () => {
        this.streaming = false;
        this.loaded = false;
      },
      reload: () => this.resync(),
      endedMessage: 'docker image events stream ended; restarting it with a full reload',
      reloadFailedMessage: 'image reload failed',
    });
  }

  /** Starts following image events and loads every image. Never throws: a daemon that is down is retried. */
  async start(): Promise<void> {
    this.events.start();
    await this.resync().catch((error: unknown) => this.log.warn('initial image listing failed; will retry', { error: String(error) }));
  }

  stop(): void {
    this.streaming = false;
    this.events.stop();
    clearTimeout(this.flushTimer);
  }

  /** Grows by one on every change; answers built from the store are valid while it stays the same. */
  get version(): number {
    return this.changes;
  }

  /** True when memory is known to match Docker: loaded, and its event stream is running. */
  get current(): boolean {
    return this.loaded && this.streaming;
  }

  /** Every image, from memory. */
  all(): DockerImageInspect[] {
    return [...this.byId.values()];
  }

  /**
   * The image `ref` names, from memory, resolved as Docker resolves it (see resolveImage). Answers
   * are kept until the store changes: a kubelet asks after the same few images again and again.
   */
  find(ref: string): DockerImageInspect | undefined {
    if (this.resolved.version !== this.changes || this.resolved.byRef.size >= MAX_RESOLVED_REFS) this.resolved = { version: this.changes, byRef: new Map() };
    const byRef = this.resolved.byRef;
    if (byRef.has(ref)) return byRef.get(ref);
    const image = resolveImage(ref, this.byId.values());
    byRef.set(ref, image);
    return image;
  }

  /** Looks at the image `ref` names now and keeps the answer (after a pull through mascri). */
  async refresh(ref: string): Promise<DockerImageInspect | undefined> {
    await this.enqueue(() => this.look([ref]));
    return this.find(ref);
  }

  /** Records that an image is gone, after mascri removed it (a tag another image took since is kept). */
  async forget(image: DockerImageInspect): Promise<void> {
    await this.enqueue(() => this.look([image.Id]));
  }

  /** Reloads everything from Docker (at start and after the event stream broke). */
  resync(): Promise<void> {
    return this.enqueue(async () => {
      const listed = await this.docker.images.list();
      const seen = new Set(listed.map((image) => image.Id));
      for (const image of listed) this.put(image);
      for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.drop(id);
      this.loaded = true;
    });
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Inspects what `refs` name and keeps the answers. A ref that names nothing is gone (an ID) or
   * lost its name (a tag): the image that had it is looked at again. A tag is on one image only,
   * so an image that takes a tag another image had makes that one be looked at again too.
   */
  private async look(refs: readonly string[]): Promise<void> {
    const found = await this.docker.images.inspectAll(refs);
    const again = new Set<string>();
    for (const ref of refs) {
      if (found.some((image) => referenceMatchesImage(ref, image) || image.Id === ref)) continue;
      const had = this.find(ref);
      if (isImageId(ref) || ref.startsWith('sha256:')) {
        const id = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
        if (this.byId.has(id)) this.drop(id);
        else if (had) this.drop(had.Id);
      } else if (had) {
        again.add(had.Id);
      }
    }
    for (const image of found) {
      const names = new Set([...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])]);
      for (const other of this.byId.values()) {
        if (other.Id === image.Id) continue;
        if ([...(other.RepoTags ?? []), ...(other.RepoDigests ?? [])].some((name) => names.has(name))) again.add(other.Id);
      }
      this.put(image);
    }
    for (const id of found.map((image) => image.Id)) again.delete(id);
    if (again.size === 0) return;
    const second = await this.docker.images.inspectAll([...again]);
    const present = new Set(second.map((image) => image.Id));
    for (const image of second) this.put(image);
    for (const id of again) if (!present.has(id)) this.drop(id);
  }

  private put(image: DockerImageInspect): void {
    const before = this.byId.get(image.Id);
    if (before && sameImage(before, image)) return;
    this.byId.set(image.Id, image);
    this.changes++;
  }

  private drop(id: string): void {
    if (this.byId.delete(id)) this.changes++;
  }

  private onEvent(event: DockerEvent): void {
    const actor = event.Actor?.ID;
    if (!actor || event.Type !== 'image' || !CHANGING_ACTIONS.has(event.Action)) return;
    this.log.debug('docker image event', { image: actor, action: event.Action, name: event.Actor.Attributes?.name });
    this.pending.add(actor);
    this.flushTimer ??= setTimeout(() => this.flushPending(), EVENT_COALESCE_MS);
  }

  private flushPending(): void {
    this.flushTimer = undefined;
    const refs = [...this.pending];
    this.pending = new Set();
    void this.enqueue(() => this.look(refs)).then(
      () => this.log.debug('docker image events handled', { images: refs }),
      (error: unknown) => {
        this.log.debug('inspect after image events failed; reloading', { error: String(error) });
        void this.resync().catch(() => undefined);
      },
    );
  }
}

/**
 * The image `ref` names among `images`, as `docker image inspect` resolves it: a tag or digest
 * (in any form Docker normalizes to the same name) first, else a unique ID or ID prefix. Pure.
 */
export function resolveImage(ref: string, images: Iterable<DockerImageInspect>): DockerImageInspect | undefined {
  const trimmed = ref.trim();
  if (trimmed === '') return undefined;
  let byId: DockerImageInspect | undefined;
  let ambiguous = false;
  const hex = trimmed.replace(/^sha256:/, '');
  const idLike = /^[a-f0-9]{6,64}$/.test(hex);
  const names = imageMatcher(trimmed);
  for (const image of images) {
    if (image.Id === trimmed) return image;
    const id = image.Id.replace(/^sha256:/, '');
    if (idLike && id.startsWith(hex)) {
      if (byId && byId.Id !== image.Id) ambiguous = true;
      byId = image;
      continue;
    }
    if (names(image)) return image;
  }
  return ambiguous ? undefined : byId;
}

/** True when two inspects of one image say the same (Docker answers the same JSON for an unchanged image). */
function sameImage(a: DockerImageInspect, b: DockerImageInspect): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
