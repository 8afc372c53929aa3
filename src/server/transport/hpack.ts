/**
 * HPACK (RFC 7541), the header compression of HTTP/2: a decoder for the header blocks a gRPC
 * client sends, and the few encoders our responses need. The encoders never use the dynamic
 * table or Huffman coding, so the server keeps no encoder state and the peer's decoder needs
 * no table at all for what we send.
 * Header bytes are latin1 strings: one char per byte, so a string's length is its size on the wire.
 */

/** Malformed HPACK input; the HTTP/2 layer answers it with a connection error COMPRESSION_ERROR. */
export class HpackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HpackError';
  }
}

// RFC 7541 Appendix A: the static table; index 1 is the first entry.
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = STATIC_TABLE.length;
// One slot per index (slot 0 unused), so a lookup is one array read.
const STATIC_NAMES = ['', ...STATIC_TABLE.map(([name]) => name)];
const STATIC_VALUES = ['', ...STATIC_TABLE.map(([, value]) => value)];

// RFC 7541 Appendix B: the Huffman code of each symbol (0-255, then 256 = EOS), msb-aligned to its length.
const HUFFMAN_CODES: readonly number[] = [
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
  0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
  0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
  0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
  0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
  0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
  0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
  0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
  0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
  0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
  0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
  0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
  0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
  0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
  0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
  0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
  0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
  0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
  0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
  0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
  0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
  0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
  0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
  0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
  0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
  0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
  0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
  0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
  0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
  0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
  0x3fffffff,
];
const HUFFMAN_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;

// Huffman decoding walks a state machine four bits at a time. A state is an inner node of the
// code tree (0 = the root; 257 leaves make 256 inner nodes). TRANSITIONS[state * 16 + nibble]
// holds the next state in its low 8 bits and, when the nibble completed a code, the symbol in
// bits 8-15 with EMITS set; FAILS marks a nibble that completes EOS, which may not appear in a
// string (RFC 7541 5.2). No code is shorter than 5 bits, so one nibble completes at most one.
const EMITS = 1 << 16;
const FAILS = 1 << 17;
const TRANSITIONS = new Uint32Array(256 * 16);
// A state where the string may end: reached from the root by at most 7 one-bits, i.e. what is
// left over is a valid padding, the most significant bits of EOS (RFC 7541 5.2).
const ACCEPTS = new Uint8Array(256);

buildHuffmanDecoder();

function buildHuffmanDecoder(): void {
  // children[node * 2 + bit]: an inner node (> 0), a leaf as -(symbol + 1), or 0 for none yet.
  const children = new Int32Array(256 * 2);
  let nodes = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = HUFFMAN_CODES[symbol];
    const length = HUFFMAN_LENGTHS[symbol];
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = node * 2 + ((code >>> bit) & 1);
      if (bit === 0) {
        if (children[slot] !== 0) throw new Error(`HPACK Huffman table: code of ${symbol} is not prefix-free`);
        children[slot] = -(symbol + 1);
      } else {
        if (children[slot] < 0) throw new Error(`HPACK Huffman table: code of ${symbol} is not prefix-free`);
        if (children[slot] === 0) children[slot] = nodes++;
        node = children[slot];
      }
    }
  }
  if (nodes !== 256) throw new Error(`HPACK Huffman table: ${nodes} inner nodes, not 256`);

  for (let node = 0, ones = 0; ones <= 7; ones++, node = children[node * 2 + 1]) ACCEPTS[node] = 1;

  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const next = children[node * 2 + ((nibble >>> bit) & 1)];
        if (next >= 0) {
          node = next;
          continue;
        }
        const symbol = -next - 1;
        if (symbol === EOS) {
          entry = FAILS;
          break;
        }
        entry = EMITS | (symbol << 8);
        node = 0;
      }
      TRANSITIONS[state * 16 + nibble] = entry | (entry & FAILS ? 0 : node);
    }
  }
}

// Decoded Huffman strings are collected here, then read out as one latin1 string. Shared by all
// decoders: decoding is synchronous. Grown on demand; a string decodes to at most 8/5 of its size.
let huffmanScratch = Buffer.allocUnsafe(1024);

function decodeHuffman(block: Buffer, start: number, end: number): string {
  const bound = Math.ceil(((end - start) * 8) / 5);
  if (huffmanScratch.length < bound) huffmanScratch = Buffer.allocUnsafe(Math.max(bound, huffmanScratch.length * 2));
  const out = huffmanScratch;
  let length = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = block[i];
    let entry = TRANSITIONS[(state << 4) | (byte >>> 4)];
    if (entry & FAILS) throw new HpackError('a Huffman-coded string holds EOS');
    if (entry & EMITS) out[length++] = entry >>> 8;
    state = entry & 0xff;
    entry = TRANSITIONS[(state << 4) | (byte & 0x0f)];
    if (entry & FAILS) throw new HpackError('a Huffman-coded string holds EOS');
    if (entry & EMITS) out[length++] = entry >>> 8;
    state = entry & 0xff;
  }
  if (!ACCEPTS[state]) throw new HpackError('a Huffman-coded string ends in padding that is not up to 7 one-bits');
  return out.toString('latin1', 0, length);
}

// An integer longer than this is refused: nothing in a header block is that large, and it keeps
// the arithmetic exact. At most 5 continuation bytes reach it (RFC 7541 5.1 leaves the limit to us).
const MAX_INTEGER = 2 ** 31 - 1;
const MAX_SHIFT = 28;

// Each entry costs its name and value lengths plus 32 (RFC 7541 4.1).
const ENTRY_OVERHEAD = 32;

const EMPTY: Buffer = Buffer.alloc(0);

/** A decoder for the header blocks of one HTTP/2 connection: it holds that connection's dynamic table. */
export class HpackDecoder {
  // The dynamic table as a ring: newest at `newest`, the `count` entries before it (wrapping) older.
  private readonly names: string[];
  private readonly values: string[];
  private newest = -1;
  private count = 0;
  private size = 0;
  private maxSize: number;
  // The block being decoded and the read position in it; fields so the readers return plain numbers.
  private block: Buffer = EMPTY;
  private pos = 0;

  /** `maxTableSize` is our SETTINGS_HEADER_TABLE_SIZE: the largest table the peer may ask for. */
  constructor(private readonly maxTableSize = 4096) {
    if (!Number.isSafeInteger(maxTableSize) || maxTableSize < 0) throw new RangeError(`HPACK table size ${maxTableSize} is not a size`);
    this.maxSize = maxTableSize;
    // No entry is smaller than 32 bytes, so this many always fit.
    const capacity = Math.floor(maxTableSize / ENTRY_OVERHEAD) + 1;
    this.names = new Array<string>(capacity).fill('');
    this.values = new Array<string>(capacity).fill('');
  }

  /** Decodes one complete header block (HEADERS plus its CONTINUATIONs) into name/value pairs in order. */
  decode(block: Buffer): Array<[string, string]> {
    this.block = block;
    this.pos = 0;
    const end = block.length;
    const fields: Array<[string, string]> = [];
    try {
      while (this.pos < end) {
        const first = block[this.pos];
        if (first & 0x80) {
          // Indexed header field (RFC 7541 6.1).
          const index = this.readInteger(7);
          if (index === 0) throw new HpackError('indexed header field with index 0');
          fields.push([this.nameAt(index), this.valueAt(index)]);
        } else if (first & 0x40) {
          // Literal with incremental indexing (6.2.1).
          const index = this.readInteger(6);
          const name = index === 0 ? this.readString() : this.nameAt(index);
          const value = this.readString();
          this.add(name, value);
          fields.push([name, value]);
        } else if (first & 0x20) {
          // Dynamic table size update (6.3): only before the first field of a block (4.2).
          if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
          const size = this.readInteger(5);
          if (size > this.maxTableSize) throw new HpackError(`dynamic table size update to ${size}, above the ${this.maxTableSize} allowed`);
          this.resize(size);
        } else {
          // Literal without indexing (6.2.2) or never indexed (6.2.3): both four-bit prefixes,
          // and the same to a decoder that passes the fields on without re-encoding them.
          const index = this.readInteger(4);
          const name = index === 0 ? this.readString() : this.nameAt(index);
          fields.push([name, this.readString()]);
        }
      }
    } finally {
      // Do not keep the caller's buffer alive until the next block.
      this.block = EMPTY;
    }
    return fields;
  }

  /** An integer with an N-bit prefix at `pos` (RFC 7541 5.1); `pos` must be inside the block. */
  private readInteger(prefixBits: number): number {
    const block = this.block;
    const mask = (1 << prefixBits) - 1;
    let value = block[this.pos++] & mask;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= block.length) throw new HpackError('header block ends inside an integer');
      if (shift > MAX_SHIFT) throw new HpackError('integer longer than 31 bits');
      const byte = block[this.pos++];
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError('integer larger than 2^31 - 1');
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** A string literal, raw or Huffman-coded (RFC 7541 5.2). */
  private readString(): string {
    const block = this.block;
    if (this.pos >= block.length) throw new HpackError('header block ends before a string literal');
    const huffman = block[this.pos] & 0x80;
    const length = this.readInteger(7);
    const start = this.pos;
    if (length > block.length - start) throw new HpackError(`string literal of ${length} bytes, ${block.length - start} left in the header block`);
    this.pos = start + length;
    if (huffman) return decodeHuffman(block, start, this.pos);
    return block.toString('latin1', start, this.pos);
  }

  /** The ring slot of dynamic index `index` (1 = newest); throws past the table's end. */
  private slotOf(index: number): number {
    const position = index - STATIC_COUNT;
    if (position > this.count) throw new HpackError(`header index ${index} beyond the ${STATIC_COUNT} static and ${this.count} dynamic entries`);
    const slot = this.newest - position + 1;
    return slot < 0 ? slot + this.names.length : slot;
  }

  private nameAt(index: number): string {
    return index <= STATIC_COUNT ? STATIC_NAMES[index] : this.names[this.slotOf(index)];
  }

  private valueAt(index: number): string {
    return index <= STATIC_COUNT ? STATIC_VALUES[index] : this.values[this.slotOf(index)];
  }

  /** Adds an entry, evicting the oldest ones to make room (RFC 7541 4.4). */
  private add(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.maxSize) {
      // An entry larger than the table empties it and is not added.
      this.evictDownTo(0);
      return;
    }
    this.evictDownTo(this.maxSize - entrySize);
    this.newest = this.newest + 1 === this.names.length ? 0 : this.newest + 1;
    this.names[this.newest] = name;
    this.values[this.newest] = value;
    this.count++;
    this.size += entrySize;
  }

  private resize(maxSize: number): void {
    this.maxSize = maxSize;
    this.evictDownTo(maxSize);
  }

  private evictDownTo(size: number): void {
    while (this.size > size) {
      let oldest = this.newest - this.count + 1;
      if (oldest < 0) oldest += this.names.length;
      this.size -= this.names[oldest].length + this.values[oldest].length + ENTRY_OVERHEAD;
      // Let the strings go.
      this.names[oldest] = '';
      this.values[oldest] = '';
      this.count--;
    }
  }
}

/** Bytes an integer takes with an N-bit prefix. */
function integerLength(value: number, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return 1;
  let length = 2;
  for (let rest = value - mask; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++;
  return length;
}

/** Writes an integer with an N-bit prefix at `pos`, OR-ing `pattern` into the first byte; returns the next position. */
function writeInteger(out: Buffer, pos: number, value: number, prefixBits: number, pattern: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[pos] = pattern | value;
    return pos + 1;
  }
  out[pos++] = pattern | mask;
  let rest = value - mask;
  while (rest >= 0x80) {
    out[pos++] = 0x80 | (rest % 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out[pos] = rest;
  return pos + 1;
}

// Any UTF-16 code unit above 0xff (surrogates too: no u flag).
const NOT_LATIN1 = /[\u0100-\uffff]/;

/** A header string's byte length; refuses chars latin1 cannot hold, which would be cut to their low byte. */
function latin1Length(text: string, what: string): number {
  if (NOT_LATIN1.test(text)) throw new RangeError(`header ${what} holds characters above U+00FF: encode it first (gRPC percent-encodes grpc-message)`);
  return text.length;
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 1 || index > MAX_INTEGER) throw new RangeError(`HPACK index ${index} is not an index`);
}

/** An indexed header field (RFC 7541 6.1): the whole field from a table, e.g. 8 for `:status: 200`. */
export function encodeIndexed(index: number): Buffer {
  checkIndex(index);
  const out = Buffer.allocUnsafe(integerLength(index, 7));
  writeInteger(out, 0, index, 7, 0x80);
  return out;
}

/** A literal header field without indexing, new name (RFC 7541 6.2.2), raw strings. */
export function encodeLiteral(name: string, value: string): Buffer {
  const nameLength = latin1Length(name, 'name');
  const valueLength = latin1Length(value, `value of ${name}`);
  const out = Buffer.allocUnsafe(1 + integerLength(nameLength, 7) + nameLength + integerLength(valueLength, 7) + valueLength);
  out[0] = 0x00;
  let pos = writeInteger(out, 1, nameLength, 7, 0x00);
  pos += out.write(name, pos, nameLength, 'latin1');
  pos = writeInteger(out, pos, valueLength, 7, 0x00);
  out.write(value, pos, valueLength, 'latin1');
  return out;
}

/** A literal header field without indexing, indexed name (RFC 7541 6.2.2), raw value; e.g. 31 for content-type. */
export function encodeLiteralIndexedName(nameIndex: number, value: string): Buffer {
  checkIndex(nameIndex);
  const valueLength = latin1Length(value, `value of header ${nameIndex}`);
  const out = Buffer.allocUnsafe(integerLength(nameIndex, 4) + integerLength(valueLength, 7) + valueLength);
  let pos = writeInteger(out, 0, nameIndex, 4, 0x00);
  pos = writeInteger(out, pos, valueLength, 7, 0x00);
  out.write(value, pos, valueLength, 'latin1');
  return out;
}
