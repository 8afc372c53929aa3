import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Logger } from '../common/logger.js';
import type { DockerAdapter } from '../docker/adapter.js';
import type { DockerEvent, EventStreamHandlers } from '../docker/events.js';
import { LABEL_INSTANCE, LABEL_TYPE } from '../docker/labels.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { ContainerStore, withOomKill } from './store.js';

const ID = 'c'.repeat(64);

function inspect(status: 'running' | 'exited'): DockerContainerInspect {
  return {
    Id: ID,
    Name: '/k8s_c_p_n_u_0',
    State: { Status: status, Running: status === 'running', ExitCode: status === 'exited' ? 137 : 0 },
    Config: { Labels: { [LABEL_TYPE]: 'container' } },
    HostConfig: {},
  } as unknown as DockerContainerInspect;
}

/** A Docker whose inspect answers are released by the test, in the order it chooses. */
class FakeDocker {
  state: 'running' | 'exited' = 'running';
  private readonly held: Array<() => void> = [];
  holdInspects = false;

  adapter(): DockerAdapter {
    const answer = async (): Promise<DockerContainerInspect> => {
      // The answer is Docker's state when the look reaches Docker, which is now, before it is held back.
      const seen = inspect(this.state);
      if (this.holdInspects) await new Promise<void>((resolve) => this.held.push(resolve));
      return seen;
    };
    const containers = {
      listIds: async () => [ID],
      list: async () => [inspect(this.state)],
      inspect: async () => [await answer()],
      inspectOne: async () => answer(),
    };
    return { containers } as unknown as DockerAdapter;
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

class FakeEvents {
  handlers: EventStreamHandlers | undefined;
  start(handlers: EventStreamHandlers): void {
    this.handlers = handlers;
  }
  stop(): void {}
  emit(action: string, at = Date.now(), name?: string): void {
    const event: DockerEvent = { Type: 'container', Action: action, Actor: { ID, ...(name ? { Attributes: { name } } : {}) }, timeNano: at * 1e6 };
    this.handlers!.onEvent(event);
  }
}

/** `adapter` whose event streams are all `events`. */
function withEvents(adapter: DockerAdapter, events: FakeEvents): DockerAdapter {
  return { ...adapter, events: { ...adapter.events, follow: () => events } };
}

/**
 * Fake time for the store's timers (the 50 ms event coalescing) and clock (Date.now): `pass(ms)`
 * moves both on, runs the timers due, and lets the promises they started settle (the fakes answer
 * without I/O, so one turn of the event loop is enough; setImmediate is not faked).
 */
function fakeTime(t: TestContext): (ms: number) => Promise<void> {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  return async (ms) => {
    t.mock.timers.tick(ms);
    await new Promise((resolve) => setImmediate(resolve));
  };
}

describe('ContainerStore: events and writes interleaved', () => {
  for (const refreshAnswersFirst of [true, false]) {
    test(`a die after a write's refresh looked is not lost (${refreshAnswersFirst ? 'refresh' : 'event look'} answers first)`, async (t) => {
      const pass = fakeTime(t);
      const docker = new FakeDocker();
      const events = new FakeEvents();
      const store = new ContainerStore(withEvents(docker.adapter(), events), new Logger('error'));
      await store.start();
      assert.equal(store.peek(ID)?.State.Status, 'running');

      // StartContainer: the start event arrives while `docker start` runs, then the write refreshes.
      events.emit('start');
      docker.holdInspects = refreshAnswersFirst;
      const refreshing = store.refresh(ID); // looks now: sees "running"
      await pass(5);
      // The process dies after the refresh looked; its die event comes later than the refresh began.
      docker.state = 'exited';
      events.emit('die', Date.now() + 1);
      if (refreshAnswersFirst) {
        docker.holdInspects = false;
        docker.release(); // the refresh's "running" lands first
        await refreshing;
        await pass(120); // the coalesced event look runs and sees "exited"
      } else {
        docker.holdInspects = false;
        await pass(120); // the event look lands first ("exited")
        docker.release();
        await refreshing; // then the refresh's older "running" arrives
      }
      assert.equal(store.peek(ID)?.State.Status, 'exited', 'the container shows EXITED, as Docker has it');
      store.stop();
    });
  }

  test('an event older than a write\'s refresh needs no second look', async (t) => {
    const pass = fakeTime(t);
    const docker = new FakeDocker();
    const events = new FakeEvents();
    let inspects = 0;
    const adapter = docker.adapter();
    const counting = { ...adapter.containers, inspect: async (ids: readonly string[]) => (inspects++, adapter.containers.inspect(ids)) };
    const store = new ContainerStore(withEvents({ ...adapter, containers: counting } as unknown as DockerAdapter, events), new Logger('error'));
    await store.start();
    docker.state = 'exited';
    events.emit('die', Date.now() - 1000);
    await store.refresh(ID);
    assert.equal(inspects, 1, 'the refresh looked');
    await pass(120);
    assert.equal(inspects, 1, 'the refresh already saw the die: no look after the events');
    assert.equal(store.peek(ID)?.State.Status, 'exited');
    store.stop();
  });
});

describe('ContainerStore: events during mascri\'s own writes', () => {
  /** A store over the one-container fake, counting docker inspects. */
  async function counted(t: TestContext) {
    const pass = fakeTime(t);
    const docker = new FakeDocker();
    const events = new FakeEvents();
    const adapter = docker.adapter();
    const looks = { count: 0 };
    const counting = { ...adapter.containers, inspect: async (ids: readonly string[]) => (looks.count++, adapter.containers.inspect(ids)) };
    const store = new ContainerStore(withEvents({ ...adapter, containers: counting } as unknown as DockerAdapter, events), new Logger('error'));
    await store.start();
    return { pass, docker, events, store, looks };
  }

  test('events about a container while a write on it runs get no look of their own: the write\'s refresh sees them', async (t) => {
    const { pass, docker, events, store, looks } = await counted(t);
    await store.whileWriting([ID], async () => {
      events.emit('kill');
      docker.state = 'exited';
      events.emit('die');
      await pass(120);
      assert.equal(looks.count, 0, 'no look while the write runs');
    });
    await store.refresh(ID);
    await pass(120);
    assert.equal(looks.count, 1, 'only the write\'s own look');
    assert.equal(store.peek(ID)?.State.Status, 'exited');
    store.stop();
  });

  test('a write known by the container\'s name (a create or run, before Docker gives the ID) holds its events too', async (t) => {
    const { pass, events, store, looks } = await counted(t);
    await store.whileWriting(['k8s_c_p_n_u_0'], async () => {
      events.emit('create', Date.now(), 'k8s_c_p_n_u_0');
      await pass(120);
      assert.equal(looks.count, 0);
    });
    await store.refresh(ID);
    await pass(120);
    assert.equal(looks.count, 1);
    store.stop();
  });

  test('a write that failed without a look: its events are looked at once it is over', async (t) => {
    const { pass, docker, events, store, looks } = await counted(t);
    await assert.rejects(
      store.whileWriting([ID], async () => {
        docker.state = 'exited';
        events.emit('die');
        await pass(120);
        throw new Error('docker start failed');
      }),
      /docker start failed/,
    );
    assert.equal(looks.count, 0);
    await pass(120);
    assert.equal(looks.count, 1, 'the events\' own look, after the write');
    assert.equal(store.peek(ID)?.State.Status, 'exited');
    store.stop();
  });

  test('events of other containers are looked at as usual during a write', async (t) => {
    const { pass, events, store, looks } = await counted(t);
    await store.whileWriting(['another-container'], async () => {
      events.emit('die');
      await pass(120);
      assert.equal(looks.count, 1);
    });
    store.stop();
  });
});

describe('ContainerStore: one instance among several on an engine', () => {
  /** A container of `instance` ('' the default), with an ID made of `char`. */
  function owned(char: string, instance: string): DockerContainerInspect {
    const labels: Record<string, string> = { [LABEL_TYPE]: 'sandbox', ...(instance ? { [LABEL_INSTANCE]: instance } : {}) };
    return {
      Id: char.repeat(64),
      Name: `/k8s_POD_p_n_${char}_0${instance ? `_${instance}` : ''}`,
      State: { Status: 'running', Running: true, ExitCode: 0 },
      Config: { Labels: labels },
      HostConfig: {},
    } as unknown as DockerContainerInspect;
  }
  const engine = [owned('a', 'a'), owned('b', 'b'), owned('c', ''), { ...owned('d', ''), Config: { Labels: { app: 'not-mascri' } } } as DockerContainerInspect];
  const byRef = (ref: string) => engine.find((c) => c.Id.startsWith(ref) || c.Name === ref || c.Name === `/${ref}`);

  /** A Docker holding `engine`; its listing answers every container, as if Docker could not filter. */
  function adapter(looks: string[]): DockerAdapter {
    const containers = {
      list: async () => engine,
      inspect: async (refs: readonly string[]) => (looks.push(...refs), refs.map(byRef).filter((c) => c !== undefined)),
      inspectOne: async (ref: string) => (looks.push(ref), byRef(ref)),
    };
    return { containers } as unknown as DockerAdapter;
  }

  for (const [instance, mine, others] of [['a', 'a', ['b', 'c', 'd']], ['', 'c', ['a', 'b', 'd']]] as const) {
    test(`instance ${JSON.stringify(instance)} holds, finds and refreshes only its own containers`, async () => {
      const looks: string[] = [];
      const store = new ContainerStore(withEvents(adapter(looks), new FakeEvents()), new Logger('error'), { instance });
      await store.start();
      assert.deepEqual(store.all().map((c) => c.Id), [mine.repeat(64)]);
      for (const other of others) {
        assert.equal(await store.lookup(other.repeat(64)), undefined, `full ID of ${other}`);
        assert.equal(await store.lookup(other.repeat(12)), undefined, `ID prefix of ${other}`);
        assert.equal(await store.lookup(`k8s_POD_p_n_${other}_0`), undefined, `name of ${other}`);
        assert.equal(await store.refresh(other.repeat(64)), undefined, `refresh of ${other}`);
      }
      assert.equal((await store.lookup(mine.repeat(12)))?.Id, mine.repeat(64));
      assert.deepEqual(store.all().map((c) => c.Id), [mine.repeat(64)], 'looking at the others kept none of them');
      store.stop();
    });
  }

  test("another instance's events are not looked at and change nothing", async (t) => {
    const pass = fakeTime(t);
    const looks: string[] = [];
    const events = new FakeEvents();
    const store = new ContainerStore(withEvents(adapter(looks), events), new Logger('error'), { instance: '' });
    await store.start();
    const changes: string[] = [];
    store.onChange((change) => changes.push(change.id));
    looks.length = 0;
    for (const [char, instance] of [['a', 'a'], ['b', 'b']] as const) {
      events.handlers!.onEvent({ Type: 'container', Action: 'die', Actor: { ID: char.repeat(64), Attributes: { [LABEL_TYPE]: 'sandbox', [LABEL_INSTANCE]: instance } } });
      events.handlers!.onEvent({ Type: 'container', Action: 'destroy', Actor: { ID: char.repeat(64), Attributes: { [LABEL_TYPE]: 'sandbox', [LABEL_INSTANCE]: instance } } });
    }
    // Its own container's event is looked at.
    events.handlers!.onEvent({ Type: 'container', Action: 'die', Actor: { ID: 'c'.repeat(64), Attributes: { [LABEL_TYPE]: 'sandbox' } } });
    await pass(120); // the coalesced look runs
    assert.deepEqual(looks, ['c'.repeat(64)]);
    assert.deepEqual(changes, []);
    store.stop();
  });
});

test('an oom event Docker reported after the container started marks its exit OOMKilled, when Docker\'s own flag missed it', () => {
  const exited = (oom: boolean): DockerContainerInspect => ({
    ...inspect('exited'),
    State: { Status: 'exited', Running: false, OOMKilled: oom, Pid: 0, ExitCode: 137, Error: '', StartedAt: '2026-01-01T00:00:10Z', FinishedAt: '2026-01-01T00:00:20Z' },
  });
  const during = Date.parse('2026-01-01T00:00:19Z');
  assert.equal(withOomKill(exited(false), during).State.OOMKilled, true);
  assert.equal(withOomKill(exited(false), undefined).State.OOMKilled, false, 'no oom event: Docker\'s word');
  assert.equal(withOomKill(exited(false), Date.parse('2026-01-01T00:00:05Z')).State.OOMKilled, false, 'an oom of an earlier run');
  const running = inspect('running');
  assert.equal(withOomKill(running, during), running, 'a running container is left as it is');
  const flagged = exited(true);
  assert.equal(withOomKill(flagged, during), flagged);
});
