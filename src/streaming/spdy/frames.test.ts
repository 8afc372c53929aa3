import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeaderCompressor, HeaderDecompressor } from './compression.js';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { createHash } from 'node:crypto';
import {
  decodeFrame,
  decodeHeaderBlock,
  encodeDataFrame,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
  FrameDecoder,
  RstStatus,
} from './frames.js';

const hex = (buffer: Buffer) => buffer.toString('hex');

describe('SPDY/3.1 frames, byte for byte', () => {
  test('the dictionary is the 1423 bytes of the SPDY/3 spec (moby/spdystream)', () => {
    assert.equal(SPDY3_DICTIONARY.length, 1423);
    assert.equal(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
  });

  test('DATA: stream id, FIN flag, 24-bit length, payload', () => {
    assert.equal(hex(encodeDataFrame(1, Buffer.from('hi'), true)), '00000001' + '01000002' + '6869');
    assert.equal(hex(encodeDataFrame(0x7fffffff, Buffer.alloc(0), false)), '7fffffff' + '00000000');
  });

  test('control frames: version 3, type, flags, length', () => {
    assert.equal(hex(encodeRstStream(3, RstStatus.CANCEL)), '80030003' + '00000008' + '00000003' + '00000005');
    assert.equal(hex(encodePing(1)), '80030006' + '00000004' + '00000001');
    assert.equal(hex(encodeGoAway(5)), '80030007' + '00000008' + '00000005' + '00000000');
    assert.equal(hex(encodeWindowUpdate(1, 32768)), '80030009' + '00000008' + '00000001' + '00008000');
  });

  test('SYN_STREAM and SYN_REPLY carry the (compressed) header block after their fixed fields', () => {
    const block = Buffer.from('abcd', 'hex');
    assert.equal(hex(encodeSynStream(1, block, { fin: true })), '80030001' + '0100000c' + '00000001' + '00000000' + '0000' + 'abcd');
    assert.equal(hex(encodeSynStream(3, block, { priority: 7, unidirectional: true })), '80030001' + '0200000c' + '00000003' + '00000000' + 'e000' + 'abcd');
    assert.equal(hex(encodeSynReply(2, block)), '80030002' + '00000006' + '00000002' + 'abcd');
  });

  test('name/value blocks: count, then length-prefixed names and values', () => {
    const block = encodeHeaderBlock({ streamtype: 'error' });
    assert.equal(hex(block), '00000001' + '0000000a' + Buffer.from('streamtype').toString('hex') + '00000005' + Buffer.from('error').toString('hex'));
    assert.deepEqual(decodeHeaderBlock(block), { streamtype: 'error' });
    assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ Port: '80', requestid: '0' })), { port: '80', requestid: '0' });
    assert.throws(() => decodeHeaderBlock(Buffer.from('00000002', 'hex')), /truncated/);
  });

  test('frames decode back, whole or split across chunks', () => {
    const frames = Buffer.concat([encodeSynReply(2, Buffer.from('ff', 'hex'), true), encodeDataFrame(5, Buffer.from('xyz'), true), encodeWindowUpdate(0, 100), encodePing(2)]);
    const decoder = new FrameDecoder();
    const out = [...decoder.push(frames.subarray(0, 5)), ...decoder.push(frames.subarray(5, 17)), ...decoder.push(frames.subarray(17))];
    assert.deepEqual(out, [
      { type: 'syn_reply', streamId: 2, fin: true, headerBlock: Buffer.from('ff', 'hex') },
      { type: 'data', streamId: 5, fin: true, data: Buffer.from('xyz') },
      { type: 'window_update', streamId: 0, delta: 100 },
      { type: 'ping', id: 2 },
    ]);
    // SETTINGS (which mascri only receives): one entry, flags 1, id 7 (initial window), value 1 MiB.
    const settings = Buffer.from('80030004' + '0000000c' + '00000001' + '01000007' + '00100000', 'hex');
    assert.deepEqual(decodeFrame(settings), { type: 'settings', clear: false, entries: [{ flags: 1, id: 7, value: 1 << 20 }] });
    assert.deepEqual(decodeFrame(encodeRstStream(7, RstStatus.REFUSED_STREAM)), { type: 'rst_stream', streamId: 7, status: 3 });
    assert.throws(() => decodeFrame(Buffer.from('80020001000000000000000000000000', 'hex')), /version 2/);
  });
});

describe('SPDY header compression (zlib, SPDY dictionary, one context per direction)', () => {
  test('decodes blocks compressed by another zlib (Python) in one shared context', async () => {
    // zlib.compressobj(9, DEFLATED, 15, 8, 0, dictionary) with Z_SYNC_FLUSH after each block.
    const decompressor = new HeaderDecompressor();
    assert.deepEqual(await decompressor.decompress(Buffer.from('78f9e3c6a7c202a62346703a2b294a4dcc851625c0149b925f5a02000000ffff', 'hex')), { streamtype: 'stdout' });
    assert.deepEqual(await decompressor.decompress(Buffer.from('02254848d95c04ce0616061606409ab308129799a034ce6888a11b54102502000000ffff', 'hex')), {
      port: '8080',
      requestid: '1',
      streamtype: 'data',
    });
    decompressor.close();
  });

  test('compressed blocks name the dictionary, end with a sync flush, and round-trip in order', async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor();
    const blocks = await Promise.all([compressor.compress({ streamtype: 'error' }), compressor.compress({}), compressor.compress({ streamtype: 'data', port: '80' })]);
    // zlib header with FDICT set and the dictionary's Adler-32 (0xe3c6a7c2).
    assert.equal(hex(blocks[0]!.subarray(0, 6)), '78f9e3c6a7c2');
    for (const block of blocks) assert.equal(hex(block.subarray(-4)), '0000ffff');
    assert.deepEqual(await decompressor.decompress(blocks[0]!), { streamtype: 'error' });
    assert.deepEqual(await decompressor.decompress(blocks[1]!), {});
    assert.deepEqual(await decompressor.decompress(blocks[2]!), { streamtype: 'data', port: '80' });
    compressor.close();
    decompressor.close();
  });
});
