/**
 * The in-memory store stays right when Docker changes behind mascri's back, and GetContainerEvents
 * reports create/start/stop/delete in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ContainerEventResponse__Output } from '../../src/cri/generated/runtime/v1/ContainerEventResponse.js';
import { BUSYBOX, DaemonRelay, MascriServer, TestPods, docker, dockerInspect, shellContainer, waitFor } from '../helpers.js';

describe('container store and events', () => {
  let relay: DaemonRelay;
  let server: MascriServer;
  let podId = '';
  let podConfig: Record<string, unknown> = {};
  const pods = new TestPods(() => server);
  const { created } = pods;

  before(async () => {
    relay = new DaemonRelay();
    await relay.up();
    server = await MascriServer.start({ env: { DOCKER_HOST: relay.dockerHost } });
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
    ({ id: podId, config: podConfig } = await pods.pod('store'));
  });
  after(async () => {
    await pods.cleanup();
    await server.stop();
    await relay.dispose();
  });

  /** The server's log lines that are JSON objects. */
  function serverLog(): Array<Record<string, unknown>> {
    return server.logs.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** How many times the server has said its `docker events` stream ended. */
  function streamEnds(): number {
    return server.logs.split('\n').filter((line) => line.includes('docker events stream ended')).length;
  }

  async function running(name: string): Promise<string> {
    const { containerId } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer(name, 'sleep 1000'), sandboxConfig: podConfig });
    created.push(containerId);
    await server.client.callRuntime('StartContainer', { containerId });
    return containerId;
  }

  test('reads answer from memory: list and status calls run no docker command', async () => {
    const id = await running('memory');
    // The container's own create/start events must be behind the store before counting: wait until
    // its start event has arrived and the look that covers it has finished.
    const startMs = await waitFor('the store to receive the start event', async () => {
      const event = serverLog().find((line) => line.msg === 'docker event' && line.container === id && line.action === 'start');
      return event ? Number(event.timeNano) / 1e6 : undefined;
    });
    await waitFor('the store to handle the start event', async () =>
      serverLog().some((line) => line.msg === 'docker events handled' && Number((line.containers as Record<string, number>)[id] ?? 0) >= startMs) ? true : undefined,
    );
    // And the image store must have handled the pull of before(): its event makes it look at the image.
    // (This test comes first: after the daemon test below, the restarted event streams replay the last
    // 2 s of events, and what they replay is looked at again, at a time no test waits for.)
    await waitFor('the image store to handle the pull event', async () =>
      serverLog().some((line) => line.msg === 'docker image events handled' && (line.images as string[]).includes(BUSYBOX)) ? true : undefined,
    );
    // And the looks that follow the writes (the create's and the start's inspects) must be in: a status
    // waits for them, as a kubelet's status right after a write does.
    await server.client.callRuntime('ContainerStatus', { containerId: id });
    await server.client.callRuntime('PodSandboxStatus', { podSandboxId: podId });
    const dockerCalls = () => server.logs.split('\n').filter((line) => line.includes('"msg":"docker"'));
    const dockerCallsBefore = dockerCalls().length;
    for (let i = 0; i < 20; i++) {
      await server.client.callRuntime('ListContainers', {});
      await server.client.callRuntime('ListPodSandbox', {});
      await server.client.callRuntime('ContainerStatus', { containerId: id });
      await server.client.callRuntime('PodSandboxStatus', { podSandboxId: podId });
    }
    const during = dockerCalls().slice(dockerCallsBefore);
    assert.deepEqual(during, [], 'no docker call for 80 reads');
  });

  test('GetContainerEvents streams created, started, stopped and deleted in order', async () => {
    const events: ContainerEventResponse__Output[] = [];
    const stream = server.client.runtime.GetContainerEvents({});
    stream.on('data', (event: ContainerEventResponse__Output) => events.push(event));
    stream.on('error', () => undefined); // cancelled at the end
    // The server subscribes the stream to the store as it logs this line.
    await waitFor('the event stream to open', async () => (/"msg":"stream opened"[^\n]*"method":"RuntimeService\/GetContainerEvents"/.test(server.logs) ? true : undefined));
    const id = await running('evented');
    await server.client.callRuntime('StopContainer', { containerId: id, timeout: '0' });
    await server.client.callRuntime('RemoveContainer', { containerId: id });
    const mine = await waitFor('four events', async () => {
      const list = events.filter((e) => e.containerId === id);
      return list.length >= 4 ? list : undefined;
    });
    stream.cancel();
    assert.deepEqual(mine.map((e) => e.containerEventType), ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT']);
    assert.equal(mine[0]!.podSandboxStatus?.id, podId);
    assert.equal(mine[1]!.containersStatuses[0]?.state, 'CONTAINER_RUNNING');
    assert.equal(mine[2]!.containersStatuses[0]?.state, 'CONTAINER_EXITED');
    assert.ok(BigInt(mine[0]!.createdAt) > 0n);
    await waitFor('the server to drop the stream', async () => (/stream closed/.test(server.logs) ? true : undefined));
  });

  test('a container killed behind mascri\'s back shows EXITED within a second', async () => {
    const id = await running('killed');
    assert.equal((await docker(['kill', id])).code, 0);
    const started = Date.now();
    const status = await waitFor('EXITED', async () => {
      const { status } = await server.client.callRuntime('ContainerStatus', { containerId: id });
      return status!.state === 'CONTAINER_EXITED' ? status! : undefined;
    }, 5000);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    assert.equal(status.exitCode, 137);
  });

  test('a container removed behind mascri\'s back disappears from ListContainers', async () => {
    const id = await running('removed');
    assert.equal((await docker(['rm', '-f', id])).code, 0);
    await waitFor('the container to disappear', async () => {
      const { containers } = await server.client.callRuntime('ListContainers', {});
      return containers.some((c) => c.id === id) ? undefined : true;
    }, 2000);
  });

  test('after the daemon connection is lost and back, what changed meanwhile is seen', async () => {
    const id = await running('daemon-restart');
    const endedBefore = streamEnds();
    await relay.down();
    // While mascri cannot reach the daemon, the container dies (told to the real daemon directly).
    assert.equal((await docker(['kill', id])).code, 0);
    await waitFor('the container to be dead in Docker', async () => ((await dockerInspect(id))?.State.Running === false ? true : undefined));
    await waitFor('mascri to see its event stream end', async () => (streamEnds() > endedBefore ? true : undefined));
    await relay.up();
    const status = await waitFor('the resync to see the container exited', async () => {
      const { status } = await server.client.callRuntime('ContainerStatus', { containerId: id });
      return status!.state === 'CONTAINER_EXITED' ? status! : undefined;
    }, 15_000);
    assert.equal(status.exitCode, 137);
    assert.match(server.logs, /docker events stream ended; restarting it with a full resync/);
  });

});
