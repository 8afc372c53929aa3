import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { SpdyConnection, type SpdyStream } from './connection.js';

/** A connected client/server pair of SPDY sessions over loopback TCP. */
async function pair(): Promise<{ client: SpdyConnection; server: SpdyConnection; close: () => void }> {
  const sockets: Socket[] = [];
  const accepted = new Promise<Socket>((resolve) => {
    const listener = createServer((socket) => {
      listener.close();
      resolve(socket);
    });
    listener.listen(0, '127.0.0.1', () => {
      const port = (listener.address() as { port: number }).port;
      sockets.push(connect(port, '127.0.0.1'));
    });
  });
  const serverSocket = await accepted;
  sockets.push(serverSocket);
  return {
    client: new SpdyConnection(sockets[0]!, 'client'),
    server: new SpdyConnection(serverSocket, 'server'),
    close: () => sockets.forEach((s) => s.destroy()),
  };
}

/** A pair with one stream of `streamtype` open: the client's end and the server's (`peer`). */
async function pairWithStream(streamtype: string): Promise<Awaited<ReturnType<typeof pair>> & { stream: SpdyStream; peer: SpdyStream }> {
  const connections = await pair();
  const opened = new Promise<SpdyStream>((resolve) => connections.server.on('stream', resolve));
  const stream = await connections.client.createStream({ streamtype });
  return { ...connections, stream, peer: await opened };
}

function readAll(stream: SpdyStream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('SpdyConnection', () => {
  test('streams open with headers, carry data both ways and half-close with FIN', async () => {
    const { client, close, stream, peer } = await pairWithStream('stdin');
    assert.equal(stream.id, 1);
    assert.equal(peer.header('streamType'), 'stdin');
    const toServer = readAll(peer);
    stream.end('hello');
    assert.equal((await toServer).toString(), 'hello');
    const toClient = readAll(stream);
    peer.end('world');
    assert.equal((await toClient).toString(), 'world');
    const second = await client.createStream({ streamtype: 'stdout' });
    assert.equal(second.id, 3);
    await client.ping();
    close();
  });

  test('a megabyte flows through 64 KiB windows kept open by WINDOW_UPDATE', async () => {
    const { close, stream, peer } = await pairWithStream('data');
    const payload = Buffer.alloc(1024 * 1024, 7);
    const received = readAll(peer);
    // The server's first WINDOW_UPDATE switches the client to honouring windows.
    stream.end(payload);
    assert.equal((await received).length, payload.length);
    const back = readAll(stream);
    peer.end(payload);
    assert.equal((await back).length, payload.length);
    close();
  });

  test('a reset stream ends for the peer; a closed connection ends every stream', async () => {
    const { client, server, close, stream, peer } = await pairWithStream('error');
    const ended = new Promise<void>((resolve) => peer.on('close', () => resolve()));
    peer.resume();
    stream.reset();
    await ended;
    const other = await client.createStream({ streamtype: 'stdout' });
    const closed = new Promise<void>((resolve) => other.on('close', () => resolve()));
    other.resume();
    await server.close();
    await closed;
    await assert.rejects(client.createStream({ streamtype: 'x' }), /closed/);
    close();
  });

  test('data a paused reader has not read yet survives the peer closing the connection', async () => {
    const { client, server, close, stream, peer } = await pairWithStream('stdout');
    stream.pause(); // a reader held back by a slow stdout
    const payload = Buffer.alloc(200_000, 7);
    await new Promise<void>((resolve) => peer.write(payload, () => resolve()));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await server.close();
    await closed;
    const received = readAll(stream);
    stream.resume();
    assert.equal((await received).length, payload.length, 'everything sent before the close is read');
    close();
  });
});
