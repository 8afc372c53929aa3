import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeIndexed, encodeLiteral, encodeLiteralIndexedName, HpackDecoder, HpackError } from './hpack.js';

type Fields = Array<[string, string]>;

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** The decoder's dynamic table, newest first, read through indexed fields (62 is the newest entry). */
function dynamicTable(decoder: HpackDecoder): Fields {
  const entries: Fields = [];
  for (let index = 62; ; index++) {
    try {
      entries.push(...decoder.decode(encodeIndexed(index)));
    } catch (error) {
      if (error instanceof HpackError) return entries;
      throw error;
    }
  }
}

/** A table's size by RFC 7541 4.1: each entry's name and value lengths plus 32. */
const tableSize = (entries: Fields): number => entries.reduce((sum, [name, value]) => sum + name.length + value.length + 32, 0);

/** An HPACK integer, written here independently of the module's encoder. */
function integer(value: number, prefixBits: number, pattern: number): number[] {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return [pattern | value];
  const out = [pattern | mask];
  for (value -= mask; value >= 128; value = Math.floor(value / 128)) out.push(0x80 | (value % 128));
  out.push(value);
  return out;
}

/** A string literal of `bytes`, marked Huffman-coded or not. */
const stringLiteral = (bytes: Buffer, huffman = false): Buffer => Buffer.concat([Buffer.from(integer(bytes.length, 7, huffman ? 0x80 : 0)), bytes]);

/** A literal without indexing, new name `x`, whose value is the given string literal. */
const literalX = (value: Buffer): Buffer => Buffer.concat([Buffer.from([0x00, 0x01, 0x78]), value]);

function assertHpackError(block: Buffer, decoder = new HpackDecoder()): void {
  assert.throws(() => decoder.decode(block), HpackError, block.toString('hex'));
}

type Step = { block: string; fields: Fields; table: Fields; size: number };

/** Decodes the steps in sequence on one decoder, checking the fields and the dynamic table after each. */
function decodeSeries(maxTableSize: number, steps: Step[]): void {
  const decoder = new HpackDecoder(maxTableSize);
  for (const [i, step] of steps.entries()) {
    assert.deepEqual(decoder.decode(hex(step.block)), step.fields, `block ${i + 1}`);
    const table = dynamicTable(decoder);
    assert.deepEqual(table, step.table, `table after block ${i + 1}`);
    assert.equal(tableSize(table), step.size, `table size after block ${i + 1}`);
  }
}

// The blocks below are RFC 7541 Appendix C's examples.
describe('RFC 7541 Appendix C', () => {
  test('C.2.1 literal with indexing, new name', () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), [['custom-key', 'custom-header']]);
    assert.deepEqual(dynamicTable(decoder), [['custom-key', 'custom-header']]);
  });

  test('C.2.2 literal without indexing, indexed name', () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(hex('040c 2f73 616d 706c 652f 7061 7468')), [[':path', '/sample/path']]);
    assert.deepEqual(dynamicTable(decoder), []);
  });

  test('C.2.3 literal never indexed, new name', () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74')), [['password', 'secret']]);
    assert.deepEqual(dynamicTable(decoder), []);
  });

  test('C.2.4 indexed header field', () => {
    assert.deepEqual(new HpackDecoder().decode(hex('82')), [[':method', 'GET']]);
  });

  const request1: Fields = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
  const request2: Fields = [...request1, ['cache-control', 'no-cache']];
  const request3: Fields = [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']];
  const requestTables: Fields[] = [
    [[':authority', 'www.example.com']],
    [['cache-control', 'no-cache'], [':authority', 'www.example.com']],
    [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']],
  ];

  test('C.3 requests without Huffman coding', () => {
    decodeSeries(4096, [
      { block: '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', fields: request1, table: requestTables[0], size: 57 },
      { block: '8286 84be 5808 6e6f 2d63 6163 6865', fields: request2, table: requestTables[1], size: 110 },
      { block: '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65', fields: request3, table: requestTables[2], size: 164 },
    ]);
  });

  test('C.4 requests with Huffman coding', () => {
    decodeSeries(4096, [
      { block: '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', fields: request1, table: requestTables[0], size: 57 },
      { block: '8286 84be 5886 a8eb 1064 9cbf', fields: request2, table: requestTables[1], size: 110 },
      { block: '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf', fields: request3, table: requestTables[2], size: 164 },
    ]);
  });

  const date1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
  const date2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
  const location = 'https://www.example.com';
  const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
  const response1: Fields = [[':status', '302'], ['cache-control', 'private'], ['date', date1], ['location', location]];
  const response2: Fields = [[':status', '307'], ['cache-control', 'private'], ['date', date1], ['location', location]];
  const response3: Fields = [[':status', '200'], ['cache-control', 'private'], ['date', date2], ['location', location], ['content-encoding', 'gzip'], ['set-cookie', cookie]];
  // The 256-byte table evicts: :status 302 goes for :status 307, and block 3 pushes out all but its own three.
  const responseTables: Fields[] = [
    [['location', location], ['date', date1], ['cache-control', 'private'], [':status', '302']],
    [[':status', '307'], ['location', location], ['date', date1], ['cache-control', 'private']],
    [['set-cookie', cookie], ['content-encoding', 'gzip'], ['date', date2]],
  ];

  test('C.5 responses without Huffman coding, 256-byte table', () => {
    decodeSeries(256, [
      {
        block: `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
        fields: response1, table: responseTables[0], size: 222,
      },
      { block: '4803 3330 37c1 c0bf', fields: response2, table: responseTables[1], size: 222 },
      {
        block: `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
        fields: response3, table: responseTables[2], size: 215,
      },
    ]);
  });

  test('C.6 responses with Huffman coding, 256-byte table', () => {
    decodeSeries(256, [
      {
        block: `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
        fields: response1, table: responseTables[0], size: 222,
      },
      { block: '4883 640e ffc1 c0bf', fields: response2, table: responseTables[1], size: 222 },
      {
        block: `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
        fields: response3, table: responseTables[2], size: 215,
      },
    ]);
  });
});

describe('Huffman strings', () => {
  test('every byte value decodes, as Go encodes them', () => {
    // Bytes 0-255 in order, Huffman-coded by golang.org/x/net/http2/hpack (AppendHuffmanString): 583 bytes.
    const coded = Buffer.from(
      '/8f//Y///+L///4////k///+X///5v///n///+j//+r////z///6f///q////9///+v///7P///t///+7///7////w////H///8v' +
      '////v///z////T///9f///2////f///+P///5////r///+1P4/n/r/yr8f6/r+/n/f0suwAImWm3HXn7n3//IP+/8/9Q3b1/BhxY' +
      '8mXNn0adWvZt3b+HHl+c/3/3//w/+f/kX/9HGSQss05unWimo9faxCbe/jz69//7/n/7/9////z//m//9L//n//6P//T//9T//1f' +
      '//s//+t//9r//7f//3P//u///e///r//+////Z///b//6///4P//7v//w///i///H//+T//uf/+x//+X//2f//zf//n///v//9r/' +
      '/u//9P//t//+5//+j//9P//e///V//7v//vf//4f/9///3///1///s//8H//h//+D//xf//t//+H//93//7//+r//4v//j//+T//' +
      '+H//y///N///H///g///4f/+v//j//8///8v//o///2f//8X///H///yf//97///v///8v//+P//+3//l//4///+b///wf//+H//' +
      '/n///8X//+X//k//8v///R///0////7///4////J///5f/+z///P//t//83//0//+f//0f//z//+r//6///93//+////T///X///' +
      'q///p///1///+b///s///7f///P///6P///T///6v///X////3///s///9v///u///9////w///7vw==',
      'base64',
    );
    assert.equal(coded.length, 583);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
    assert.deepEqual(new HpackDecoder().decode(literalX(stringLiteral(coded, true))), [['x', all]]);
  });

  test('a string may end in up to 7 bits of padding, all ones', () => {
    // 'a' is 00011; '0' is 00000.
    assert.deepEqual(new HpackDecoder().decode(literalX(stringLiteral(Buffer.from([0x1f]), true))), [['x', 'a']]);
    assert.deepEqual(new HpackDecoder().decode(literalX(stringLiteral(Buffer.from([0x07]), true))), [['x', '0']]);
    assert.deepEqual(new HpackDecoder().decode(literalX(stringLiteral(Buffer.alloc(0), true))), [['x', '']]);
  });

  test('EOS in a string, padding not all ones, and padding of 8 bits or more are refused', () => {
    assertHpackError(literalX(stringLiteral(Buffer.from([0xff, 0xff, 0xff, 0xff]), true)));
    assertHpackError(literalX(stringLiteral(Buffer.from([0x1f, 0xff, 0xff, 0xff, 0xfc]), true)));
    assertHpackError(literalX(stringLiteral(Buffer.from([0x18]), true)));
    assertHpackError(literalX(stringLiteral(Buffer.from([0x1e]), true)));
    assertHpackError(literalX(stringLiteral(Buffer.from([0x1f, 0xff]), true)));
    assertHpackError(literalX(stringLiteral(Buffer.from([0xff]), true)));
  });

  test('a long Huffman string outgrows the shared scratch buffer', () => {
    // 'a' x 8: 00011 x 8 = 40 bits = 5 bytes; repeated, 8000 bytes decode to 12800 chars.
    const unit = Buffer.from([0x18, 0xc6, 0x31, 0x8c, 0x63]);
    const coded = Buffer.concat(Array.from({ length: 1600 }, () => unit));
    assert.deepEqual(new HpackDecoder().decode(literalX(stringLiteral(coded, true))), [['x', 'a'.repeat(12800)]]);
  });
});

describe('malformed blocks', () => {
  test('truncated and overlong integers', () => {
    assertHpackError(hex('ff'));
    assertHpackError(hex('ff80'));
    assertHpackError(hex('7f'));
    assertHpackError(hex('3f'));
    // Beyond 2^31 - 1, and more continuation bytes than 31 bits need.
    assertHpackError(hex('ff ff ff ff ff 0f'));
    assertHpackError(hex('ff 80 80 80 80 80 00'));
  });

  test('truncated strings', () => {
    assertHpackError(hex('40'));
    assertHpackError(hex('40 05 61'));
    assertHpackError(hex('40 01 61'));
    assertHpackError(hex('40 01 61 02 62'));
    assertHpackError(hex('04'));
    assertHpackError(hex('40 7f'));
  });

  test('index 0 and indices beyond both tables', () => {
    assertHpackError(hex('80'));
    assertHpackError(hex('be'));
    assertHpackError(hex('7e 00'));
    assertHpackError(hex('0f 2f 00'));
    const decoder = new HpackDecoder();
    decoder.decode(hex('40 01 61 00'));
    assert.deepEqual(decoder.decode(hex('be')), [['a', '']]);
    assertHpackError(hex('bf'), decoder);
  });

  test('table size updates: up to the limit, only at the start of a block', () => {
    const decoder = new HpackDecoder(256);
    // 256 is allowed, 257 is not.
    assert.deepEqual(decoder.decode(hex('3fe101 88')), [[':status', '200']]);
    assertHpackError(hex('3fe201'), decoder);
    assertHpackError(hex('88 20'), decoder);
    assert.deepEqual(new HpackDecoder(0).decode(hex('20')), []);
    assertHpackError(hex('21'), new HpackDecoder(0));
    // Two at the start are fine (RFC 7541 4.2: the smallest, then the final size).
    assert.deepEqual(new HpackDecoder().decode(hex('20 3fe11f 82')), [[':method', 'GET']]);
  });

  test('a smaller table evicts from the oldest end, and a size of 0 empties it', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('40 01 61 01 31 40 01 62 01 32'));
    assert.deepEqual(dynamicTable(decoder), [['b', '2'], ['a', '1']]);
    decoder.decode(hex('3f 03'));
    assert.deepEqual(dynamicTable(decoder), [['b', '2']]);
    decoder.decode(hex('20'));
    assert.deepEqual(dynamicTable(decoder), []);
    // At size 0 nothing is added.
    decoder.decode(hex('40 01 61 01 31'));
    assert.deepEqual(dynamicTable(decoder), []);
  });

  test('an entry larger than the table empties it and is not added', () => {
    const decoder = new HpackDecoder(64);
    decoder.decode(hex('40 01 61 01 31'));
    // b plus 32 x's is 1 + 32 + 32 = 65 bytes.
    assert.deepEqual(decoder.decode(Buffer.concat([hex('40 01 62 20'), Buffer.from('x'.repeat(32))])), [['b', 'x'.repeat(32)]]);
    assert.deepEqual(dynamicTable(decoder), []);
  });

  test('every truncation of a valid block decodes a prefix of its fields or throws HpackError', () => {
    const blocks = [
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
    ];
    for (const block of blocks.map(hex)) {
      const full = new HpackDecoder().decode(block);
      for (let length = 0; length < block.length; length++) {
        let fields: Fields;
        try {
          fields = new HpackDecoder().decode(block.subarray(0, length));
        } catch (error) {
          assert.ok(error instanceof HpackError, `${length}: ${String(error)}`);
          continue;
        }
        assert.deepEqual(fields, full.slice(0, fields.length), `${length}`);
      }
    }
  });

  test('random bytes decode or throw HpackError, nothing else', () => {
    // A fixed-seed generator (xorshift32), so a failure repeats.
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let round = 0; round < 3000; round++) {
      const block = Buffer.from(Array.from({ length: next() % 48 }, () => next() & 0xff));
      try {
        new HpackDecoder(next() % 512).decode(block);
      } catch (error) {
        assert.ok(error instanceof HpackError, `${block.toString('hex')}: ${String(error)}`);
      }
    }
  });
});

describe('encoders', () => {
  test('indexed fields: one byte below 127, continuation bytes from there', () => {
    assert.equal(encodeIndexed(8).toString('hex'), '88');
    assert.equal(encodeIndexed(126).toString('hex'), 'fe');
    assert.equal(encodeIndexed(127).toString('hex'), 'ff00');
    assert.equal(encodeIndexed(300).toString('hex'), 'ffad01');
    assert.deepEqual(new HpackDecoder().decode(encodeIndexed(8)), [[':status', '200']]);
    assert.throws(() => encodeIndexed(0), RangeError);
    assert.throws(() => encodeIndexed(1.5), RangeError);
  });

  test('an indexed field past 127 reaches the dynamic table', () => {
    const decoder = new HpackDecoder();
    // 100 entries of 33 bytes: 3300 of 4096. The oldest ('n0') is index 61 + 100.
    decoder.decode(Buffer.concat(Array.from({ length: 100 }, (_, i) => Buffer.concat([hex('40'), stringLiteral(Buffer.from(`n${i}`)), hex('00')]))));
    assert.deepEqual(decoder.decode(encodeIndexed(161)), [['n0', '']]);
    assert.deepEqual(decoder.decode(encodeIndexed(128)), [['n33', '']]);
    assertHpackError(encodeIndexed(162), decoder);
  });

  test('literals with a new name: raw strings with 7-bit length prefixes', () => {
    assert.equal(encodeLiteral('grpc-status', '0').toString('hex'), '000b677270632d7374617475730130');
    assert.deepEqual(new HpackDecoder().decode(encodeLiteral('grpc-status', '0')), [['grpc-status', '0']]);
    assert.deepEqual(new HpackDecoder().decode(encodeLiteral('', '')), [['', '']]);
    // Latin1 bytes above 0x7f survive.
    assert.deepEqual(new HpackDecoder().decode(encodeLiteral('x-bin', 'caf\u00e9\u00ff')), [['x-bin', 'caf\u00e9\u00ff']]);
  });

  test('literals longer than 127 bytes: a 200-byte name and value, and 127 exactly', () => {
    const name = 'n'.repeat(200);
    const value = 'v'.repeat(1000);
    const block = encodeLiteral(name, value);
    // 200 = 127 + 73; 1000 = 127 + 873 = 127 + 0x69 + 6 * 128.
    assert.equal(block.subarray(0, 3).toString('hex'), '007f49');
    assert.equal(block.subarray(203, 206).toString('hex'), '7fe906');
    assert.equal(block.length, 1 + 2 + 200 + 3 + 1000);
    assert.deepEqual(new HpackDecoder().decode(block), [[name, value]]);
    const edge = encodeLiteral('a'.repeat(126), 'b'.repeat(127));
    assert.equal(edge[1], 126);
    assert.deepEqual([edge[128], edge[129]], [0x7f, 0x00]);
    assert.deepEqual(new HpackDecoder().decode(edge), [['a'.repeat(126), 'b'.repeat(127)]]);
  });

  test('literals with an indexed name: a 4-bit name index, raw value', () => {
    assert.equal(encodeLiteralIndexedName(31, 'application/grpc').toString('hex'), '0f10' + '10' + Buffer.from('application/grpc').toString('hex'));
    assert.equal(encodeLiteralIndexedName(4, '/x').toString('hex'), '04022f78');
    assert.deepEqual(new HpackDecoder().decode(encodeLiteralIndexedName(31, 'application/grpc')), [['content-type', 'application/grpc']]);
    const long = 'm'.repeat(300);
    assert.deepEqual(new HpackDecoder().decode(encodeLiteralIndexedName(58, long)), [['user-agent', long]]);
    assert.throws(() => encodeLiteralIndexedName(0, 'x'), RangeError);
  });

  test('a field block of all three decodes in order, leaving the table empty', () => {
    const decoder = new HpackDecoder();
    const block = Buffer.concat([encodeIndexed(8), encodeLiteralIndexedName(31, 'application/grpc'), encodeLiteral('grpc-accept-encoding', 'identity')]);
    assert.deepEqual(decoder.decode(block), [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-accept-encoding', 'identity']]);
    assert.deepEqual(dynamicTable(decoder), []);
  });

  test('strings that latin1 cannot hold are refused, not cut to their low bytes', () => {
    assert.throws(() => encodeLiteral('x', 'caf\u0113'), RangeError);
    assert.throws(() => encodeLiteral('\u{1f600}', 'x'), RangeError);
    assert.throws(() => encodeLiteralIndexedName(31, '\u2603'), RangeError);
  });
});

describe('a gRPC request as grpc-go sends it', () => {
  // Two ContainerStatus calls on one connection, encoded by golang.org/x/net/http2/hpack as grpc-go
  // uses it: everything indexed incrementally, Huffman where shorter. The second is nearly all indices.
  const first = hex(`
    8386459e62cb6a49a92afdc2bedb6a49a92ee2d9dcc42b178f52466a8b66e48d36a34186a0e41d139d095f8b1d75d0620d263d
    4c4d65647a8a9acac8b4c7602bba25c140027465864d833505b11f40899acac8b24d494f6a7f860befbef3a0b7`);
  const second = hex('8386c3c2c1c0bf7e860befbef3c1b7');
  const fields = (timeout: string): Fields => [
    [':method', 'POST'], [':scheme', 'http'], [':path', '/runtime.v1.RuntimeService/ContainerStatus'], [':authority', 'localhost'],
    ['content-type', 'application/grpc'], ['user-agent', 'grpc-go/1.72.0'], ['te', 'trailers'], ['grpc-timeout', timeout],
  ];

  test('decodes in sequence on one decoder', () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(first), fields('1999870u'));
    assert.deepEqual(decoder.decode(second), fields('1999881u'));
    assert.equal(dynamicTable(decoder).length, 7);
  });
});
