import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Logger } from '../common/logger.js';
import type { DockerAdapter } from '../docker/adapter.js';
import type { DockerEvent, EventStreamHandlers } from '../docker/events.js';
import { LABEL_TYPE } from '../docker/labels.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { ContainerStore } from './store.js';

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
  emit(action: string, at = Date.now()): void {
    const event: DockerEvent = { Type: 'container', Action: action, Actor: { ID }, timeNano: at * 1e6 };
    this.handlers!.onEvent(event);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ContainerStore: events and writes interleaved', () => {
  for (const refreshAnswersFirst of [true, false]) {
    test(`a die after a write's refresh looked is not lost (${refreshAnswersFirst ? 'refresh' : 'event look'} answers first)`, async () => {
      const docker = new FakeDocker();
      const events = new FakeEvents();
      const store = new ContainerStore(docker.adapter(), new Logger('error'), events);
      await store.start();
      assert.equal(store.peek(ID)?.State.Status, 'running');

      // StartContainer: the start event arrives while `docker start` runs, then the write refreshes.
      events.emit('start');
      docker.holdInspects = refreshAnswersFirst;
      const refreshing = store.refresh(ID); // looks now: sees "running"
      await sleep(5);
      // The process dies after the refresh looked; its die event comes later than the refresh began.
      docker.state = 'exited';
      events.emit('die', Date.now() + 1);
      if (refreshAnswersFirst) {
        docker.holdInspects = false;
        docker.release(); // the refresh's "running" lands first
        await refreshing;
        await sleep(120); // the coalesced event look runs and sees "exited"
      } else {
        docker.holdInspects = false;
        await sleep(120); // the event look lands first ("exited")
        docker.release();
        await refreshing; // then the refresh's older "running" arrives
      }
      assert.equal(store.peek(ID)?.State.Status, 'exited', 'the container shows EXITED, as Docker has it');
      store.stop();
    });
  }

  test('an event older than a write\'s refresh needs no second look', async () => {
    const docker = new FakeDocker();
    const events = new FakeEvents();
    let inspects = 0;
    const adapter = docker.adapter();
    const counting = { ...adapter.containers, inspect: async (ids: readonly string[]) => (inspects++, adapter.containers.inspect(ids)) };
    const store = new ContainerStore({ ...adapter, containers: counting } as unknown as DockerAdapter, new Logger('error'), events);
    await store.start();
    docker.state = 'exited';
    events.emit('die', Date.now() - 1000);
    await store.refresh(ID);
    await sleep(120);
    assert.equal(inspects, 0, 'the refresh already saw the die');
    assert.equal(store.peek(ID)?.State.Status, 'exited');
    store.stop();
  });
});
