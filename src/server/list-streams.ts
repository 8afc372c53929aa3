import type * as grpc from '@grpc/grpc-js';
import type { UnaryHandler } from './context.js';
import { toServiceError } from './errors.js';

/** Items per message of a Stream* list RPC. */
export const STREAM_CHUNK_SIZE = 100;

/** Splits `items` into batches of at most `size`; an empty list is one empty batch. Pure. */
export function chunk<T>(items: readonly T[], size = STREAM_CHUNK_SIZE): T[][] {
  if (items.length === 0) return [[]];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A Stream* RPC (StreamContainers, StreamImages, ...) answered from its List* handler: the same
 * request (each Stream* request holds the same filter as its List* request), the list sent in
 * messages of at most STREAM_CHUNK_SIZE items under `streamKey`, then the end of the stream.
 * Always at least one message, so a client can tell "nothing" from "not answered".
 */
export function listAsStream(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each List* handler has its own types
  list: UnaryHandler<any, any>,
  listKey: string,
  streamKey: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each stream has its own types
): (call: grpc.ServerWritableStream<any, any>) => void {
  return (call) => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    list(call.request, abort.signal).then(
      (response: Record<string, unknown>) => {
        if (call.cancelled) return;
        const items = (response[listKey] ?? []) as unknown[];
        for (const batch of chunk(items)) call.write({ [streamKey]: batch });
        call.end();
      },
      (error: unknown) => {
        if (!call.cancelled) call.emit('error', toServiceError(error));
      },
    );
  };
}
