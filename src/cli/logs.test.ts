import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrpcCode } from '../common/errors.js';
import type { CriClient } from '../cri/client.js';
import { resolveContainer } from './logs.js';

/** A client that knows these container IDs, answering ContainerStatus for full IDs only (as a strict runtime would). */
function fakeClient(ids: string[]): CriClient {
  const notFound = (id: string) => Object.assign(new Error(`no container "${id}"`), { code: GrpcCode.NOT_FOUND, details: `no container "${id}"` });
  const client = {
    async callRuntime(method: string, request: { containerId?: string; filter?: { id?: string } }) {
      if (method === 'ContainerStatus') {
        if (!ids.includes(request.containerId!)) throw notFound(request.containerId!);
        return { status: { id: request.containerId, logPath: `/logs/${request.containerId}.log` }, info: {} };
      }
      if (method === 'ListContainers') return { containers: ids.filter((id) => id.startsWith(request.filter?.id ?? '')).map((id) => ({ id })) };
      throw new Error(`unexpected ${method}`);
    },
  };
  return client as unknown as CriClient;
}

test('a full container ID is asked for directly', async () => {
  assert.equal((await resolveContainer(fakeClient(['abc123', 'abd456']), 'abc123')).logPath, '/logs/abc123.log');
});

test('a unique prefix resolves through ListContainers', async () => {
  assert.equal((await resolveContainer(fakeClient(['abc123', 'abd456']), 'abc')).id, 'abc123');
});

test('an ambiguous prefix is an error naming the matches', async () => {
  await assert.rejects(resolveContainer(fakeClient(['abc123', 'abd456']), 'ab'), /ambiguous.*abc123.*abd456/);
});

test('no match reports the runtime NOT_FOUND', async () => {
  await assert.rejects(resolveContainer(fakeClient(['abc123']), 'zzz'), (error: { code?: number }) => error.code === GrpcCode.NOT_FOUND);
});
