import { criMessageSerializer, criService, type CriMethodDefinition, type CriServiceName } from '../cri/definition.js';

/**
 * What of a method's answer is encoded only once: the whole answer object (`'answer'`); or the whole
 * answer but one int64 field, stamped at each encoding with the time in nanoseconds since the epoch
 * (`{ stamp: n }`, n the field's number; the handler leaves the field unset):
 * PodSandboxStatusResponse.timestamp must be the time of each answer, as a kubelet's evented PLEG
 * keeps a pod's status only when it is newer than the one it holds; or, for a list answer whose one
 * field is a repeated message (`{ items: key, field: n, type: 'runtime.v1.Container' }`), the whole
 * answer and each item object: a list made again after one change encodes only the changed items.
 * The handler must answer the very same object (and item objects) while nothing changed.
 */
export type EncodingMemo = 'answer' | { stamp: number } | { items: string; field: number; type: string };

/** PodSandboxStatusResponse's `int64 timestamp = 4` (api.proto); memoized-encoding.test.ts decodes it back. */
export const POD_SANDBOX_STATUS_TIMESTAMP_FIELD = 4;

/**
 * A copy of `service` whose listed methods encode a response object only once: the list and status
 * handlers answer the very same object while nothing changed, so a relist costs no protobuf encoding.
 * A stamp is its own encoded field after the rest: concatenated protobuf encodings are the merged
 * message, so the answer decodes as one. (Encoding the changing part with protobufjs at each call
 * instead made a PodSandboxStatus round trip about 15 us slower, a tenth of it.)
 */
export function withMemoizedEncoding<M extends { responseSerialize: (value: never) => Buffer }>(
  service: Record<string, M>,
  methods: Record<string, EncodingMemo>,
  itemSerializer: (type: string) => (value: unknown) => Buffer = criMessageSerializer,
): Record<string, M> {
  const copy: Record<string, M> = { ...service };
  for (const [method, memo] of Object.entries(methods)) {
    const definition = service[method];
    if (!definition) continue;
    const encoded = new WeakMap<object, Buffer>();
    const serialize = typeof memo === 'object' && 'items' in memo ? listSerializer(memo, definition.responseSerialize as (value: unknown) => Buffer, itemSerializer(memo.type)) : (definition.responseSerialize as (value: unknown) => Buffer);
    const once = (value: unknown): Buffer => {
      if (typeof value !== 'object' || value === null) return serialize(value);
      let bytes = encoded.get(value);
      if (!bytes) encoded.set(value, (bytes = serialize(value)));
      return bytes;
    };
    const responseSerialize = typeof memo === 'object' && 'stamp' in memo ? (value: unknown) => Buffer.concat([once(value), int64Field(memo.stamp, BigInt(Date.now()) * 1_000_000n)]) : once;
    copy[method] = { ...definition, responseSerialize };
  }
  return copy;
}

/**
 * A list answer's encoding from its items' encodings, each made once per item object: a repeated
 * message field is each item as a length-delimited field of its own, in order (the answer having no
 * other field, that is the whole message). Anything else is encoded whole.
 */
function listSerializer(memo: { items: string; field: number }, whole: (value: unknown) => Buffer, item: (value: unknown) => Buffer): (value: unknown) => Buffer {
  const encoded = new WeakMap<object, Buffer>();
  // The key of a length-delimited field (wire type 2); fields 1-15 take one byte.
  const key = varint(BigInt((memo.field << 3) | 2));
  return (value) => {
    const items = (value as Record<string, unknown>)[memo.items];
    if (!Array.isArray(items) || Object.keys(value as object).length !== 1) return whole(value);
    const bodies: Buffer[] = [];
    let total = 0;
    for (const one of items) {
      if (typeof one !== 'object' || one === null) return whole(value);
      let bytes = encoded.get(one);
      if (!bytes) encoded.set(one, (bytes = item(one)));
      bodies.push(bytes);
      total += key.length + varintLength(bytes.length) + bytes.length;
    }
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const bytes of bodies) {
      at += key.copy(out, at);
      for (let rest = bytes.length; ; rest >>>= 7) {
        if (rest < 0x80) {
          out[at++] = rest;
          break;
        }
        out[at++] = (rest & 0x7f) | 0x80;
      }
      at += bytes.copy(out, at);
    }
    return out;
  };
}

/** How many bytes the varint of a length takes. Pure. */
function varintLength(n: number): number {
  let length = 1;
  for (let rest = n; rest >= 0x80; rest >>>= 7) length++;
  return length;
}

/** An unsigned varint. Pure. */
function varint(n: bigint): Buffer {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, n);
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

/** The protobuf encoding of an int64 field (varint wire type): its key, then the value in 7-bit groups. Pure. */
export function int64Field(field: number, value: bigint): Buffer {
  return Buffer.concat([varint(BigInt(field) << 3n), varint(value)]);
}

/** What each served method encodes once (see EncodingMemo). */
const MEMOS: Record<CriServiceName, Record<string, EncodingMemo>> = {
  RuntimeService: {
    ListContainers: { items: 'containers', field: 1, type: 'runtime.v1.Container' },
    ListPodSandbox: { items: 'items', field: 1, type: 'runtime.v1.PodSandbox' },
    ContainerStatus: 'answer',
    PodSandboxStatus: { stamp: POD_SANDBOX_STATUS_TIMESTAMP_FIELD },
  },
  ImageService: { ListImages: { items: 'images', field: 1, type: 'runtime.v1.Image' }, ImageStatus: 'answer' },
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
