import type { UnaryHandler } from './context.js';
import type { StreamHandler } from './cri-methods.js';
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
export function listAsStream<Req, ListRes, ListKey extends keyof ListRes & string, StreamKey extends string>(
  list: UnaryHandler<Req, ListRes>,
  listKey: ListKey,
  streamKey: StreamKey,
): StreamHandler<Req, { [K in StreamKey]?: ListRes[ListKey] }> {
  return (call) => {
    list(call.request, call.signal).then(
      (response) => {
        if (call.cancelled) return;
        const items = (response[listKey] ?? []) as unknown[];
        // Each batch is a part of the list the response holds under listKey: ListRes[ListKey] again.
        for (const batch of chunk(items)) call.write({ [streamKey]: batch } as { [K in StreamKey]?: ListRes[ListKey] });
        call.end();
      },
      (error: unknown) => {
        if (!call.cancelled) call.fail(toServiceError(error));
      },
    );
  };
}
