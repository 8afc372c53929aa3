import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { CriClient, DEFAULT_ENDPOINT, grpcTarget, socketPath } from './client.js';

describe('grpcTarget', () => {
  test('unix endpoints in every spelling become unix:///path', () => {
    assert.equal(grpcTarget('unix:///a/b.sock'), 'unix:///a/b.sock');
    assert.equal(grpcTarget('unix:/a/b.sock'), 'unix:///a/b.sock');
    assert.equal(grpcTarget('/a/b.sock'), 'unix:///a/b.sock');
  });

  test('tcp:// endpoints become host:port', () => {
    assert.equal(grpcTarget('tcp://127.0.0.1:1234'), '127.0.0.1:1234');
    assert.equal(grpcTarget('tcp://localhost:10010'), 'localhost:10010');
  });

  test('anything else is passed to grpc-js unchanged', () => {
    assert.equal(grpcTarget('127.0.0.1:1234'), '127.0.0.1:1234');
    assert.equal(grpcTarget('dns:///cri.example:443'), 'dns:///cri.example:443');
  });
});

describe('socketPath', () => {
  test('the file path of a unix endpoint', () => {
    assert.equal(socketPath('unix:///a/b.sock'), '/a/b.sock');
    assert.equal(socketPath('unix:/a/b.sock'), '/a/b.sock');
    assert.equal(socketPath('/a/b.sock'), '/a/b.sock');
    assert.equal(socketPath(DEFAULT_ENDPOINT), '/run/mascri/mascri.sock');
  });

  test('undefined for a TCP endpoint', () => {
    assert.equal(socketPath('tcp://127.0.0.1:1234'), undefined);
    assert.equal(socketPath('127.0.0.1:1234'), undefined);
  });
});

describe('CriClient', () => {
  test('an unknown method name rejects without calling anything', async () => {
    const client = new CriClient('unix:///nonexistent/mascri-test.sock');
    try {
      await assert.rejects(
        (client.callRuntime as unknown as (method: string, request: object) => Promise<unknown>).call(client, 'NoSuchMethod', {}),
        /no such CRI method: NoSuchMethod/,
      );
    } finally {
      client.close();
    }
  });

  test('a call to a socket nobody listens on fails UNAVAILABLE within its deadline', async () => {
    const client = new CriClient('unix:///nonexistent/mascri-test.sock', undefined, 500);
    try {
      await assert.rejects(client.callRuntime('Version', {}), (error: { code?: number }) => {
        assert.ok(error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED, `code ${error.code}`);
        return true;
      });
    } finally {
      client.close();
    }
  });
});
