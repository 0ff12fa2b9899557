/** What every kubeless kind's conversion shares: the input as read, the options, and the notes it writes. */

export type Obj = Record<string, unknown>;
export const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Something the conversion could not carry over, or that the user must do: `path: message`. */
export interface Note {
  /** A field path, of the input when it names what was dropped, of the output when it names what to fill in. */
  readonly path: string;
  readonly message: string;
}

/** What `kurier convert` is told besides the manifests. */
export interface ConvertOptions {
  /** `--kafka-brokers`: fills spec.kafka.brokers instead of a placeholder. */
  readonly kafkaBrokers?: readonly string[];
  /** `--nats-url`: fills spec.nats.url instead of a placeholder. */
  readonly natsUrl?: string;
  /** `--allow-cross-namespace`: keep a PulsarTrigger's `spec.deployment.metadata.namespace`. */
  readonly allowCrossNamespace: boolean;
  /** The first Service port of each kubeless Function in the input, by `namespace/name` (`/name` without a namespace). */
  readonly functionPorts: ReadonlyMap<string, number>;
}

/** The metadata of the converted trigger and the rest of what one source kind's conversion needs. */
export interface Source {
  readonly metadata: Obj;
  readonly namespace: string | undefined;
  readonly spec: Obj;
  readonly options: ConvertOptions;
}

/** The fields of `spec` a converter did not read, each as a note. */
export function unmappedFields(spec: Obj, known: readonly string[], prefix: string, kind: string, notes: Note[]): void {
  for (const field of Object.keys(spec)) {
    if (!known.includes(field)) notes.push({ path: `${prefix}.${field}`, message: `not a field of kubeless' ${kind}; not carried over` });
  }
}

