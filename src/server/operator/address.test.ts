import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHttpAddress, isLoopback, parseHttpAddress } from './address.js';

describe('parseHttpAddress', () => {
  test('IPv4, bracketed IPv6 and names with a port', () => {
    assert.deepEqual(parseHttpAddress('127.0.0.1:9090'), { host: '127.0.0.1', port: 9090 });
    assert.deepEqual(parseHttpAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseHttpAddress('localhost:8080'), { host: 'localhost', port: 8080 });
  });

  test('what is not HOST:PORT is refused, saying what is expected', () => {
    assert.throws(() => parseHttpAddress('9090'), /is not HOST:PORT/);
    assert.throws(() => parseHttpAddress(':9090'), /names no host/);
    assert.throws(() => parseHttpAddress('127.0.0.1:99999'), /not between 0 and 65535/);
    assert.throws(() => parseHttpAddress('::1:9090'), /is not HOST:PORT/);
    assert.throws(() => parseHttpAddress('[localhost]:9090'), /not an IPv6 address/);
  });
});

describe('isLoopback', () => {
  test('127.0.0.0/8, ::1 and localhost only', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1']) assert.equal(isLoopback(host), false, host);
  });
});

describe('checkHttpAddress', () => {
  test('a non-loopback address needs --http-allow-remote, and the message says so', () => {
    assert.throws(() => checkHttpAddress('0.0.0.0:9090', false), /not a loopback address.*--http-allow-remote/);
    assert.deepEqual(checkHttpAddress('0.0.0.0:9090', true), { host: '0.0.0.0', port: 9090 });
    assert.deepEqual(checkHttpAddress('127.0.0.1:9090', false), { host: '127.0.0.1', port: 9090 });
  });
});
