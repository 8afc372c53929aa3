import type { Logger } from '../common/logger.js';
import type { DockerAdapter } from '../docker/adapter.js';
import { DockerError } from '../docker/errors.js';
import type { DockerEvent } from '../docker/events.js';
import { LABEL_INSTANCE, LABEL_TYPE, instanceLabelFilter, ownedBy } from '../docker/labels.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { FollowedStream } from './followed-stream.js';
import { StoreCore } from './store-core.js';

/** A change of one container in the store: before and after (undefined when absent). */
export interface StoreChange {
  id: string;
  before: DockerContainerInspect | undefined;
  after: DockerContainerInspect | undefined;
}

/** Callers waiting for a look at one container. */
type Waiter = { resolve: (inspect: DockerContainerInspect | undefined) => void; reject: (error: unknown) => void };

/** A look a write put off (see ContainerStore.refreshLater): `now` makes it at once. */
interface LookLater {
  waiters: Waiter[];
  timer: NodeJS.Timeout;
  now: () => void;
}

/** How long events are gathered before one inspect looks at every container they name. */
const EVENT_COALESCE_MS = 50;

export interface StoreOptions {
  /** The serving instance (`mascri serve --instance`); '' (the default) for containers without an instance label. */
  instance?: string;
}

/**
 * mascri's sandboxes and containers in memory: loaded with one listing at start, then kept
 * current from one `docker events` stream (restarted, with a full resync, when it breaks),
 * and refreshed by every write. Reads (lists and statuses) never run docker.
 *
 * It holds only the containers of its instance (see ownedBy): another instance's container is
 * never listed, looked up (by ID, prefix or name), refreshed or reported, so every handler that
 * reads from the store sees its own server's pods only.
 */
export class ContainerStore {
  private readonly core = new StoreCore<DockerContainerInspect>();
  private readonly events: FollowedStream;
  private readonly listeners: Array<(change: StoreChange) => void> = [];
  /** Containers with events waiting for a look, and the newest event time (ms) of each. */
  private pending = new Map<string, number>();
  /** When a write last asked for a look at each container (ms): events older than that are seen by it. */
  private readonly refreshedAt = new Map<string, number>();
  /** mascri's writes running now, by the container names and IDs they touch (see whileWriting). */
  private readonly writing = new Map<string, number>();
  /** Containers whose events came during a write on them, and the newest event time (ms) of each. */
  private readonly deferred = new Map<string, number>();
  /** The name each container's waiting events gave (a write on a new container knows only its name). */
  private readonly eventNames = new Map<string, string>();
  /** When Docker reported an `oom` event for a container (ms): its flag misses some kernel OOM kills. */
  private readonly oomAt = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private changes = 0;
  private synced = false;
  /** The instance whose containers this store holds ('' the default). */
  private readonly instance: string;
  /** Inspects a write made up from what it knows (see settleInBackground): lists show them, lookups wait for the real one. */
  private readonly provisional = new WeakSet<DockerContainerInspect>();
  /** What the listeners last saw of a container now held provisionally. */
  private readonly beforeProvisional = new Map<string, DockerContainerInspect | undefined>();
  /** Looks at Docker that answered writes started and did not wait for: lookups of the ID wait for them. */
  private readonly settling = new Map<string, Promise<DockerContainerInspect | undefined>>();
  /** Refreshes waiting for the next look, by full container ID (see refresh). */
  private refreshQueue = new Map<string, Waiter[]>();
  private refreshing = false;
  /** Looks a write put off (see settleInBackground's lookAfterMs), by container ID: `now` makes one at once. */
  private readonly lookLater = new Map<string, LookLater>();

  constructor(
    private readonly docker: DockerAdapter,
    private readonly log: Logger,
    options: StoreOptions = {},
  ) {
    this.instance = options.instance ?? '';
    // The adapter's stream of this instance's containers (`docker events` in a real server).
    this.events = new FollowedStream(docker.events.follow(instanceLabelFilter(this.instance)), {
      log,
      onEvent: (event) => this.onEvent(event),
      reload: () => this.resync(),
      endedMessage: 'docker events stream ended; restarting it with a full resync',
      reloadFailedMessage: 'resync failed',
    });
  }

  /** Starts following Docker's events and loads every mascri container. Never throws: a daemon that is down is retried. */
  async start(): Promise<void> {
    this.events.start();
    await this.resync().catch((error: unknown) => this.log.warn('initial container listing failed; will retry', { error: String(error) }));
  }

  stop(): void {
    this.events.stop();
    clearTimeout(this.flushTimer);
    // Looks put off are not made: the server is stopping.
    for (const later of this.lookLater.values()) {
      clearTimeout(later.timer);
      for (const waiter of later.waiters) waiter.resolve(undefined);
    }
    this.lookLater.clear();
  }

  /** Grows by one on every change; answers built from the store are valid while it stays the same. */
  get version(): number {
    return this.changes;
  }

  /** True once a full listing has been loaded. */
  get ready(): boolean {
    return this.synced;
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Every known mascri container (sandboxes and containers), from memory. */
  all(): DockerContainerInspect[] {
    return this.core.values();
  }

  /** From memory only: by full ID, unique ID prefix, or Docker name. */
  peek(ref: string): DockerContainerInspect | undefined {
    const exact = this.core.get(ref);
    if (exact) return exact;
    if (ref.length === 0) return undefined;
    let found: DockerContainerInspect | undefined;
    for (const inspect of this.core.values()) {
      if (inspect.Id.startsWith(ref) || inspect.Name === ref || inspect.Name === `/${ref}`) {
        if (found && found.Id !== inspect.Id) return undefined; // ambiguous
        found = inspect;
      }
    }
    return found;
  }

  /**
   * From memory, falling back to `docker inspect` on a miss (and keeping what it finds). A container
   * a write has just changed without waiting for Docker's answer is returned once that answer is in.
   */
  async lookup(ref: string): Promise<DockerContainerInspect | undefined> {
    const inMemory = this.peek(ref);
    if (inMemory) {
      const settling = this.settling.get(inMemory.Id);
      if (!settling && !this.provisional.has(inMemory)) return inMemory;
      this.lookLater.get(inMemory.Id)?.now();
      await settling;
      // Docker's answer did not come (the daemon went away): ask again rather than answer a made-up inspect.
      if (this.isProvisional(inMemory.Id)) return this.refresh(inMemory.Id);
      return this.core.get(inMemory.Id);
    }
    return this.looking(async (seq) => {
      let inspect: DockerContainerInspect | undefined;
      try {
        inspect = await this.docker.containers.inspectOne(ref);
      } catch (error) {
        if (error instanceof DockerError && (error.kind === 'invalid-argument' || /multiple IDs found/i.test(error.message))) return undefined;
        throw error;
      }
      // An ID, prefix or name of another instance's container (or of no mascri container) is not found.
      if (!inspect || !this.owns(inspect)) return undefined;
      this.apply(inspect.Id, seq, inspect);
      return this.core.get(inspect.Id) ?? inspect;
    });
  }

  /**
   * Looks at Docker now and keeps the answer: every write calls this so its own change is visible at
   * once. Refreshes asked for while a look runs are made together by the next one (one `docker
   * inspect` of them all): in a burst of writes most of the docker CLI processes were these looks.
   */
  refresh(id: string): Promise<DockerContainerInspect | undefined> {
    // The look starts now or after the one running: either way after any event that came before this.
    this.refreshedAt.set(id, Date.now());
    const answer = new Promise<DockerContainerInspect | undefined>((resolve, reject) => {
      const waiting = this.refreshQueue.get(id);
      if (waiting) waiting.push({ resolve, reject });
      else this.refreshQueue.set(id, [{ resolve, reject }]);
    });
    // A look put off for this container is made by this one.
    this.lookLater.get(id)?.now();
    this.startRefreshes();
    return answer;
  }

  /**
   * A refresh made in `ms`, or sooner: at the first lookup of the ID, or with the next refresh of it
   * (the write that follows, say a StartContainer after its CreateContainer, whose look then covers
   * both). Events about the container until then are left to it.
   */
  private refreshLater(id: string, ms: number): Promise<DockerContainerInspect | undefined> {
    this.refreshedAt.set(id, Date.now());
    return new Promise((resolve, reject) => {
      const waiting = this.lookLater.get(id);
      if (waiting) {
        waiting.waiters.push({ resolve, reject });
        return;
      }
      const later: LookLater = {
        waiters: [{ resolve, reject }],
        timer: setTimeout(() => later.now(), ms).unref(),
        now: () => {
          clearTimeout(later.timer);
          this.lookLater.delete(id);
          const look = this.refresh(id);
          for (const waiter of later.waiters) look.then(waiter.resolve, waiter.reject);
        },
      };
      this.lookLater.set(id, later);
    });
  }

  /**
   * Starts a look at every queued refresh, unless one is running (it starts the next when done).
   * Looks that writes put off go along (one ID more in the same `docker inspect`, one process less
   * later), except those of containers a write runs on now: a look during a `docker start` waits
   * for Docker's lock on the container, and would hold up every refresh queued behind it.
   */
  private startRefreshes(): void {
    if (this.refreshing || this.refreshQueue.size === 0) return;
    for (const [id, later] of [...this.lookLater]) {
      if (this.refreshQueue.has(id) || this.heldByWrite(id)) continue;
      clearTimeout(later.timer);
      this.lookLater.delete(id);
      this.refreshedAt.set(id, Date.now());
      this.refreshQueue.set(id, later.waiters);
    }
    const batch = this.refreshQueue;
    this.refreshQueue = new Map();
    this.refreshing = true;
    const ids = [...batch.keys()];
    void this.looking(async (seq) => {
      const found = await this.docker.containers.inspect(ids);
      const byId = new Map(found.map((inspect) => [inspect.Id, inspect]));
      // Sandboxes first: a container's change heard by the listeners (GetContainerEvents) carries
      // its pod's status as held then, which a look taken along (see above) brings in the same batch.
      const sandboxFirst = [...ids].sort((a, b) => Number(!isSandbox(byId.get(a))) - Number(!isSandbox(byId.get(b))));
      for (const id of sandboxFirst) this.apply(id, seq, byId.get(id));
    })
      .then(
        () => {
          for (const [id, waiting] of batch) for (const { resolve } of waiting) resolve(this.core.get(id));
        },
        (error: unknown) => {
          for (const waiting of batch.values()) for (const { reject } of waiting) reject(error);
        },
      )
      .finally(() => {
        this.refreshing = false;
        this.startRefreshes();
      });
  }

  /**
   * For a write whose answer needs nothing more from Docker (RunPodSandbox, CreateContainer,
   * StartContainer): keeps at once what the write knows of the container (`known`, made from the
   * inspect held now, if any), so lists show the change without waiting, and looks at Docker in the
   * background. Lookups of the ID (statuses, the next write) wait for that look: what they read is
   * Docker's own answer, and what `afterLook` did with it is done. Listeners (GetContainerEvents, the
   * log copier) hear of the change only from that answer. Answers the look (undefined if it failed:
   * the next event or resync catches up). With `lookAfterMs`, the look waits that long unless a
   * lookup or the next write on the container asks for it first (see refreshLater).
   */
  settleInBackground(
    id: string,
    known: (current: DockerContainerInspect | undefined) => DockerContainerInspect,
    afterLook?: (inspect: DockerContainerInspect | undefined) => Promise<void>,
    options: { lookAfterMs?: number } = {},
  ): Promise<DockerContainerInspect | undefined> {
    const seq = this.core.begin();
    try {
      const value = known(this.core.get(id));
      this.provisional.add(value);
      this.apply(id, seq, value);
    } finally {
      this.core.finish(seq);
    }
    const settled = (options.lookAfterMs ? this.refreshLater(id, options.lookAfterMs) : this.refresh(id))
      .catch((error: unknown) => {
        this.log.debug('inspect after a write failed; the next event or resync will catch up', { container: id, error: String(error) });
        return undefined;
      })
      .then(async (inspect) => {
        // What the write still does with Docker's answer (follow the log) is done before lookups go on.
        await afterLook?.(inspect).catch((error: unknown) => this.log.warn('a write could not finish after its inspect', { container: id, error: String(error) }));
        return inspect;
      });
    this.settling.set(id, settled);
    void settled.finally(() => {
      if (this.settling.get(id) === settled) this.settling.delete(id);
    });
    return settled;
  }

  /**
   * Every container as Docker answered for it: once the looks that follow recent writes are in (a
   * look that failed is made again). For what reads more than lists show, such as pids for stats.
   */
  async allSettled(): Promise<DockerContainerInspect[]> {
    for (const later of [...this.lookLater.values()]) later.now();
    await Promise.all(this.settling.values());
    const madeUp = this.core.values().filter((inspect) => this.provisional.has(inspect));
    await Promise.all(madeUp.map((inspect) => this.refresh(inspect.Id).catch(() => undefined)));
    return this.all();
  }

  /** True while the container is held as a write made it up, before Docker's answer came (tests). */
  isProvisional(id: string): boolean {
    const value = this.core.get(id);
    return value !== undefined && this.provisional.has(value);
  }

  /** Records that a container is gone (after a successful remove). */
  removed(id: string): void {
    const seq = this.core.begin();
    this.apply(id, seq, undefined);
    this.core.finish(seq);
  }

  /**
   * The store as a lookup source (lookup.ts) for the next write: as lookup, but a container a write
   * has just changed is answered as held, without waiting for Docker's inspect.
   */
  readonly asHeld: Pick<ContainerStore, 'lookup' | 'all'> = {
    lookup: async (ref) => this.peek(ref) ?? this.lookup(ref),
    all: () => this.all(),
  };

  /** Runs one look at Docker under a sequence number taken as it starts (see StoreCore), finished however it ends. */
  private async looking<T>(look: (seq: number) => Promise<T>): Promise<T> {
    const seq = this.core.begin();
    try {
      return await look(seq);
    } finally {
      this.core.finish(seq);
    }
  }

  /** Reloads everything from Docker (at start and after the event stream broke). */
  async resync(): Promise<void> {
    await this.looking(async (seq) => {
      const listed = await this.docker.containers.list(this.instance);
      const seen = new Set<string>();
      for (const inspect of listed) {
        seen.add(inspect.Id);
        this.apply(inspect.Id, seq, inspect);
      }
      for (const id of this.core.ids()) if (!seen.has(id)) this.apply(id, seq, undefined);
      this.core.compact(seq);
      this.synced = true;
    });
  }

  /** True when the container is one of this instance's. */
  private owns(inspect: DockerContainerInspect): boolean {
    return ownedBy(this.instance, inspect.Config.Labels);
  }

  /** Keeps what a look found; anything that is not this instance's is kept as absent. */
  private apply(id: string, seq: number, found: DockerContainerInspect | undefined): void {
    const value = found && this.owns(found) ? (this.provisional.has(found) ? found : withOomKill(found, this.oomAt.get(id))) : undefined;
    const held = this.core.get(id);
    if (!this.core.resolve(id, seq, value)) return;
    const after = this.core.get(id);
    if (held === after) return;
    this.changes++;
    const heldProvisionally = held !== undefined && this.provisional.has(held);
    if (after !== undefined && this.provisional.has(after)) {
      // Lists see it now; listeners wait for Docker's answer, told the change from what they last saw.
      if (!heldProvisionally) this.beforeProvisional.set(id, held);
      return;
    }
    const before = heldProvisionally ? this.beforeProvisional.get(id) : held;
    this.beforeProvisional.delete(id);
    if (before === after) return;
    for (const listener of this.listeners) {
      try {
        listener({ id, before, after });
      } catch (error) {
        this.log.error('store listener failed', { error: String(error) });
      }
    }
  }

  private onEvent(event: DockerEvent): void {
    const id = event.Actor?.ID;
    if (!id || event.Type !== 'container') return;
    // Docker puts a container's labels in its events' attributes. The default instance follows every
    // mascri container (Docker cannot filter on a label being absent): skip those of named instances.
    const attributes = event.Actor.Attributes;
    if (attributes && (attributes[LABEL_INSTANCE] ?? '') !== this.instance) return;
    this.log.debug('docker event', { container: id, action: event.Action, timeNano: event.timeNano });
    if (event.Action === 'oom') this.oomAt.set(id, event.timeNano !== undefined ? event.timeNano / 1e6 : Date.now());
    if (event.Action === 'destroy') {
      this.oomAt.delete(id);
      this.pending.delete(id);
      this.deferred.delete(id);
      this.eventNames.delete(id);
      this.refreshedAt.delete(id);
      this.removed(id);
      return;
    }
    // exec_* and health events do not change what the CRI reports.
    if (event.Action.startsWith('exec_') || event.Action.startsWith('health_status')) return;
    // Coalesce: one `docker inspect` for every container that changed within a short window. Events
    // usually arrive while mascri's own write is still running; the window lets that write's refresh
    // start, so the flush can see the event is already covered and skip a second look.
    const eventMs = event.timeNano !== undefined ? event.timeNano / 1e6 : Date.now();
    keepNewest(this.pending, id, eventMs);
    if (attributes?.name) this.eventNames.set(id, attributes.name);
    this.scheduleFlush();
  }

  /** Starts the coalescing window, unless one is open: its end looks at everything pending. */
  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => void this.flushPending(), EVENT_COALESCE_MS);
  }

  /** True while one of mascri's writes runs on the container, by its ID or the name its events gave. */
  private heldByWrite(id: string): boolean {
    return this.writing.has(id) || this.writing.has(this.eventNames.get(id) ?? id);
  }

  private async flushPending(): Promise<void> {
    this.flushTimer = undefined;
    const handled = new Map<string, number>();
    const batch: string[] = [];
    for (const [id, eventMs] of this.pending) {
      // A write that asked for a look at this container after the event happened has already seen its effect.
      const refreshed = this.refreshedAt.get(id);
      if (refreshed !== undefined && refreshed >= eventMs) {
        handled.set(id, eventMs);
        continue;
      }
      // A write on it is running: the look that follows the write will see this; if not, one is made after it.
      if (this.heldByWrite(id)) {
        keepNewest(this.deferred, id, eventMs);
        continue;
      }
      handled.set(id, eventMs);
      batch.push(id);
    }
    this.pending = new Map();
    for (const id of handled.keys()) if (!this.deferred.has(id)) this.eventNames.delete(id);
    if (batch.length > 0) {
      // The look's number is taken as it starts, not when its first event came: a write's refresh that
      // started in between may have seen the container before a later event (a die), and must not win.
      await this.looking(async (seq) => {
        const found = await this.docker.containers.inspect(batch);
        const byId = new Map(found.map((inspect) => [inspect.Id, inspect]));
        for (const id of batch) this.apply(id, seq, byId.get(id));
      }).catch((error: unknown) => this.log.debug('inspect after events failed; the next resync will catch up', { error: String(error) }));
    }
    // Each container with the newest event time (ms) this look covered: tests wait for it.
    if (this.log.enabled('debug') && handled.size > 0) this.log.debug('docker events handled', { containers: Object.fromEntries(handled), looked: batch.length });
  }

  /**
   * Runs one of mascri's own writes on containers (`keys`: their names or IDs). Events about them
   * that come meanwhile wait for its end: the look every write asks for afterwards (refresh,
   * settleInBackground) sees what they told, so they need no `docker inspect` of their own, which
   * during a start would also wait for Docker's lock on the container. What that look did not cover
   * (a write that failed, a later event) is looked at once the write is over.
   */
  async whileWriting<T>(keys: readonly string[], write: () => Promise<T>): Promise<T> {
    for (const key of keys) this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
    try {
      return await write();
    } finally {
      for (const key of keys) {
        const left = (this.writing.get(key) ?? 1) - 1;
        if (left > 0) this.writing.set(key, left);
        else this.writing.delete(key);
      }
      // Back to the events waiting for a look; the coalescing window lets the write's own look be asked for first.
      for (const [id, eventMs] of [...this.deferred]) {
        if (this.heldByWrite(id)) continue;
        this.deferred.delete(id);
        keepNewest(this.pending, id, eventMs);
      }
      if (this.pending.size > 0) this.scheduleFlush();
    }
  }
}

/** Keeps the newest event time (ms) of a container in `times`. */
function keepNewest(times: Map<string, number>, id: string, eventMs: number): void {
  times.set(id, Math.max(times.get(id) ?? 0, eventMs));
}

/**
 * One answer kept while the store does not change (a kubelet's unfiltered relist): the same
 * object comes back, so its protobuf encoding is reused too (see withMemoizedEncoding).
 */
export class AnswerWhileUnchanged<T> {
  private kept: { version: number; answer: T } | undefined;

  constructor(private readonly store: { readonly version: number }) {}

  /** The kept answer if nothing changed since it was made, else a new one from `build`. */
  async get(build: () => Promise<T>): Promise<T> {
    if (this.kept && this.kept.version === this.store.version) return this.kept.answer;
    const version = this.store.version;
    const answer = await build();
    this.kept = { version, answer };
    return answer;
  }
}

/**
 * The inspect with State.OOMKilled set when Docker reported an `oom` event for the container after
 * it last started and it has since exited: under load Docker's own flag misses some kernel OOM kills
 * (the oom and exit notifications race), and a kubelet would report a crash instead of OOMKilled.
 */
export function withOomKill(inspect: DockerContainerInspect, oomAtMs: number | undefined): DockerContainerInspect {
  if (oomAtMs === undefined || inspect.State.OOMKilled || inspect.State.Running || inspect.State.Status !== 'exited') return inspect;
  const started = Date.parse(inspect.State.StartedAt);
  if (Number.isFinite(started) && oomAtMs < started) return inspect; // an OOM of an earlier run
  return { ...inspect, State: { ...inspect.State, OOMKilled: true } };
}

function isSandbox(inspect: DockerContainerInspect | undefined): boolean {
  return inspect?.Config.Labels?.[LABEL_TYPE] === 'sandbox';
}
