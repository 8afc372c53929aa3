import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeChannelMessage,
  encodeBase64ChannelMessage,
  encodeChannelMessage,
  encodeCloseSignal,
  encodePortPrefix,
  JsonObjectSplitter,
  parseTerminalSize,
} from './channels.js';

describe('WebSocket channel framing', () => {
  test('binary messages start with the channel byte', () => {
    assert.equal(encodeChannelMessage(1, Buffer.from('hi')).toString('hex'), '016869');
    assert.equal(encodeChannelMessage(3).toString('hex'), '03');
    assert.deepEqual(decodeChannelMessage(Buffer.from('026f6f7073', 'hex')), { channel: 2, data: Buffer.from('oops') });
    assert.equal(decodeChannelMessage(Buffer.alloc(0)), undefined);
  });

  test('base64 messages: the channel as an ASCII digit, then base64', () => {
    assert.equal(encodeBase64ChannelMessage(1, Buffer.from('hi')), '1aGk=');
    assert.deepEqual(decodeChannelMessage('0aGk='), { channel: 0, data: Buffer.from('hi') });
  });

  test('v5 close signal and the port-forward port prefix', () => {
    assert.equal(encodeCloseSignal(0).toString('hex'), 'ff00');
    assert.deepEqual(decodeChannelMessage(encodeCloseSignal(0)), { channel: 255, data: Buffer.from([0]) });
    assert.equal(encodePortPrefix(80).toString('hex'), '5000');
    assert.equal(encodePortPrefix(8080).toString('hex'), '901f');
  });

  test('resize messages: JSON objects split and joined at any byte', () => {
    const splitter = new JsonObjectSplitter();
    assert.deepEqual(splitter.push('{"Width":80,"Hei'), []);
    assert.deepEqual(splitter.push('ght":24}\n{"Width":100,"Height":30}\n{"Wi'), [
      { Width: 80, Height: 24 },
      { Width: 100, Height: 30 },
    ]);
    assert.deepEqual(splitter.push('dth":1,"Height":2}'), [{ Width: 1, Height: 2 }]);
    assert.deepEqual(parseTerminalSize({ Width: 80, Height: 24 }), { width: 80, height: 24 });
    assert.equal(parseTerminalSize({ width: 80 }), undefined);
  });
});
