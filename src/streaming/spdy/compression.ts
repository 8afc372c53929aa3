import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';
import { decodeHeaderBlock, encodeHeaderBlock, SpdyProtocolError, type SpdyHeaders } from './frames.js';

/**
 * One direction of SPDY header compression: a single zlib context (with the SPDY/3
 * dictionary) for the whole connection, each block ended with Z_SYNC_FLUSH, as the
 * spec and Go's framer do. Calls are serialised so blocks keep their order.
 */
abstract class ZlibChannel<T extends Deflate | Inflate> {
  private queue: Promise<unknown> = Promise.resolve();

  protected constructor(protected readonly zlib: T) {
    zlib.on('error', () => undefined); // surfaced through the pending call instead
  }

  protected run(input: Buffer): Promise<Buffer> {
    const next = this.queue.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const onError = (error: Error) => reject(error);
          this.zlib.once('error', onError);
          this.zlib.write(input);
          this.zlib.flush(constants.Z_SYNC_FLUSH, () => {
            this.zlib.off('error', onError);
            const chunks: Buffer[] = [];
            for (let chunk = this.zlib.read() as Buffer | null; chunk !== null; chunk = this.zlib.read() as Buffer | null) chunks.push(chunk);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.zlib.destroy();
  }
}

/** Compresses outgoing header blocks. */
export class HeaderCompressor extends ZlibChannel<Deflate> {
  constructor() {
    super(createDeflate({ level: constants.Z_BEST_COMPRESSION, dictionary: SPDY3_DICTIONARY }));
  }

  compress(headers: SpdyHeaders): Promise<Buffer> {
    return this.run(encodeHeaderBlock(headers));
  }
}

/** Decompresses incoming header blocks. */
export class HeaderDecompressor extends ZlibChannel<Inflate> {
  constructor() {
    super(createInflate({ dictionary: SPDY3_DICTIONARY }));
  }

  async decompress(block: Buffer): Promise<SpdyHeaders> {
    let plain: Buffer;
    try {
      plain = await this.run(block);
    } catch (error) {
      throw new SpdyProtocolError(`cannot decompress a header block: ${(error as Error).message}`);
    }
    return decodeHeaderBlock(plain);
  }
}
