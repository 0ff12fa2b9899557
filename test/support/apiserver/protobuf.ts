import { ApiError } from './errors.js';

/**
 * Just enough of Kubernetes' protobuf encoding to read what kubectl's typed generators send
 * (`kubectl create namespace|configmap|secret|deployment`): the `k8s\0` envelope and the fields
 * those commands set. Anything else answers 415, as a server without protobuf support would.
 */

type Field = { wire: 0; value: bigint } | { wire: 2; value: Buffer };
type Msg = Map<number, Field[]>;

function varint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function decode(buf: Buffer): Msg {
  const msg: Msg = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p1] = varint(buf, pos);
    pos = p1;
    const num = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let field: Field;
    if (wire === 0) {
      const [v, p2] = varint(buf, pos);
      pos = p2;
      field = { wire: 0, value: v };
    } else if (wire === 2) {
      const [len, p2] = varint(buf, pos);
      const end = p2 + Number(len);
      field = { wire: 2, value: buf.subarray(p2, end) };
      pos = end;
    } else if (wire === 5) {
      pos += 4;
      continue;
    } else if (wire === 1) {
      pos += 8;
      continue;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = msg.get(num) ?? [];
    list.push(field);
    msg.set(num, list);
  }
  return msg;
}

const bytesOf = (m: Msg, n: number): Buffer[] => (m.get(n) ?? []).flatMap((f) => (f.wire === 2 ? [f.value] : []));
const str = (m: Msg, n: number): string | undefined => {
  const b = bytesOf(m, n).at(-1);
  const s = b?.toString('utf8');
  return s === '' ? undefined : s;
};
const strs = (m: Msg, n: number): string[] | undefined => {
  const l = bytesOf(m, n).map((b) => b.toString('utf8'));
  return l.length ? l : undefined;
};
const int = (m: Msg, n: number): number | undefined => {
  const f = (m.get(n) ?? []).at(-1);
  return f?.wire === 0 ? Number(BigInt.asIntN(64, f.value)) : undefined;
};
const sub = (m: Msg, n: number): Msg | undefined => {
  const b = bytesOf(m, n).at(-1);
  return b ? decode(b) : undefined;
};
function map(m: Msg, n: number, asBase64 = false): Record<string, string> | undefined {
  const entries = bytesOf(m, n).map((b) => decode(b));
  if (!entries.length) return undefined;
  return Object.fromEntries(entries.map((e) => [bytesOf(e, 1)[0]?.toString('utf8') ?? '', asBase64 ? (bytesOf(e, 2)[0] ?? Buffer.alloc(0)).toString('base64') : (bytesOf(e, 2)[0]?.toString('utf8') ?? '')]));
}

function prune(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function objectMeta(m: Msg | undefined): Record<string, unknown> {
  if (!m) return {};
  return prune({ name: str(m, 1), generateName: str(m, 2), namespace: str(m, 3), labels: map(m, 11), annotations: map(m, 12), finalizers: strs(m, 14) });
}

function container(m: Msg): Record<string, unknown> {
  const ports = bytesOf(m, 6).map((b) => {
    const p = decode(b);
    return prune({ name: str(p, 1), containerPort: int(p, 3), protocol: str(p, 4) });
  });
  return prune({ name: str(m, 1), image: str(m, 2), command: strs(m, 3), args: strs(m, 4), ports: ports.length ? ports : undefined });
}

function deployment(m: Msg): Record<string, unknown> {
  const spec = sub(m, 2);
  if (!spec) return {};
  const sel = sub(spec, 2);
  const tpl = sub(spec, 3);
  const pod = tpl ? sub(tpl, 2) : undefined;
  return prune({
    replicas: int(spec, 1),
    selector: sel ? prune({ matchLabels: map(sel, 1) }) : undefined,
    template: tpl ? prune({ metadata: objectMeta(sub(tpl, 1)), spec: pod ? { containers: bytesOf(pod, 2).map((b) => container(decode(b))) } : undefined }) : undefined,
  });
}

/** Decodes a kubectl protobuf request body into the JSON object it stands for. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  const unsupported = (why: string): ApiError =>
    new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf: ${why})`);
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw unsupported('missing k8s envelope');
  let unknown: Msg;
  try {
    unknown = decode(body.subarray(4));
  } catch (e) {
    throw unsupported((e as Error).message);
  }
  const typeMeta = sub(unknown, 1);
  const apiVersion = typeMeta ? str(typeMeta, 1) : undefined;
  const kind = typeMeta ? str(typeMeta, 2) : undefined;
  const raw = sub(unknown, 2);
  if (!raw) throw unsupported('empty object');
  const base = { apiVersion, kind, metadata: objectMeta(sub(raw, 1)) };
  switch (`${apiVersion ?? ''}/${kind ?? ''}`) {
    case 'v1/Namespace':
      return base;
    case 'v1/ConfigMap':
      return prune({ ...base, data: map(raw, 2), binaryData: map(raw, 3, true) });
    case 'v1/Secret':
      return prune({ ...base, data: map(raw, 2, true), type: str(raw, 3), stringData: map(raw, 4) });
    case 'apps/v1/Deployment':
      return { ...base, spec: deployment(raw) };
    default:
      throw unsupported(`${apiVersion ?? '?'} ${kind ?? '?'} is not decoded by the double`);
  }
}
