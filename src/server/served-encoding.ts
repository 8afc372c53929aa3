import { criService, type CriMethodDefinition, type CriServiceName } from '../cri/definition.js';

/**
 * What of a method's answer is encoded only once: the whole answer object (`'answer'`), or the whole
 * answer but one int64 field, stamped at each encoding with the time in nanoseconds since the epoch
 * (`{ stamp: n }`, n the field's number; the handler leaves the field unset):
 * PodSandboxStatusResponse.timestamp must be the time of each answer, as a kubelet's evented PLEG
 * keeps a pod's status only when it is newer than the one it holds.
 * The handler must answer the very same object while nothing changed.
 */
export type EncodingMemo = 'answer' | { stamp: number };

/** PodSandboxStatusResponse's `int64 timestamp = 4` (api.proto); memoized-encoding.test.ts decodes it back. */
export const POD_SANDBOX_STATUS_TIMESTAMP_FIELD = 4;

/**
 * A copy of `service` whose listed methods encode a response object only once: the list and status
 * handlers answer the very same object while nothing changed, so a relist costs no protobuf encoding.
 * A stamp is its own encoded field after the rest: concatenated protobuf encodings are the merged
 * message, so the answer decodes as one. (Encoding the changing part with protobufjs at each call
 * instead made a PodSandboxStatus round trip about 15 us slower, a tenth of it.)
 */
export function withMemoizedEncoding<M extends { responseSerialize: (value: never) => Buffer }>(service: Record<string, M>, methods: Record<string, EncodingMemo>): Record<string, M> {
  const copy: Record<string, M> = { ...service };
  for (const [method, memo] of Object.entries(methods)) {
    const definition = service[method];
    if (!definition) continue;
    const encoded = new WeakMap<object, Buffer>();
    const serialize = definition.responseSerialize as (value: unknown) => Buffer;
    const once = (value: unknown): Buffer => {
      if (typeof value !== 'object' || value === null) return serialize(value);
      let bytes = encoded.get(value);
      if (!bytes) encoded.set(value, (bytes = serialize(value)));
      return bytes;
    };
    const responseSerialize = memo === 'answer' ? once : (value: unknown) => Buffer.concat([once(value), int64Field(memo.stamp, BigInt(Date.now()) * 1_000_000n)]);
    copy[method] = { ...definition, responseSerialize };
  }
  return copy;
}

/** The protobuf encoding of an int64 field (varint wire type): its key, then the value in 7-bit groups. Pure. */
export function int64Field(field: number, value: bigint): Buffer {
  const bytes: number[] = [];
  const varint = (n: bigint) => {
    let rest = BigInt.asUintN(64, n);
    while (rest >= 0x80n) {
      bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    bytes.push(Number(rest));
  };
  varint(BigInt(field) << 3n);
  varint(value);
  return Buffer.from(bytes);
}

/** What each served method encodes once (see EncodingMemo). */
const MEMOS: Record<CriServiceName, Record<string, EncodingMemo>> = {
  RuntimeService: { ListContainers: 'answer', ListPodSandbox: 'answer', ContainerStatus: 'answer', PodSandboxStatus: { stamp: POD_SANDBOX_STATUS_TIMESTAMP_FIELD } },
  ImageService: { ListImages: 'answer', ImageStatus: 'answer' },
};

const served = new Map<CriServiceName, Record<string, CriMethodDefinition>>();

/**
 * The methods of one CRI service as the server answers them: every way an answer leaves the server
 * (gRPC, the operator endpoint's JSON) encodes through these, so a stamped field is always there.
 */
export function servedCriService(name: CriServiceName): Record<string, CriMethodDefinition> {
  let service = served.get(name);
  if (!service) served.set(name, (service = withMemoizedEncoding(criService(name), MEMOS[name])));
  return service;
}
