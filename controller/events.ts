/** Kubernetes Events about triggers, with repeats folded into one Event's count. */
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node's models are plain data classes: its serializer reads their fields, never their prototype */
import { randomBytes } from 'node:crypto';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import { statusCode, type KubeApi } from './kube.js';
import type { Logger } from './logger.js';

export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export const COMPONENT = 'kurier-controller';

/** The object an Event is about. */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  /** Records an Event; never throws (Events are best effort), failures are logged. */
  record(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void>;
}

const MAX_REMEMBERED = 4096;
const MAX_MESSAGE = 1024;

/**
 * Records core/v1 Events the way client-go's recorder does: the same (object, type, reason,
 * message) seen again bumps `count` and `lastTimestamp` of the existing Event instead of adding one.
 */
export class KubeEventRecorder implements EventRecorder {
  readonly #api: KubeApi;
  readonly #clock: Clock;
  readonly #instance: string;
  readonly #log: Logger;
  /** Name and count of the Event last written per (object, type, reason, message). */
  readonly #seen = new Map<string, { name: string; count: number }>();

  constructor(api: KubeApi, options: { clock: Clock; instance: string; log: Logger }) {
    this.#api = api;
    this.#clock = options.clock;
    this.#instance = options.instance;
    this.#log = options.log;
  }

  async record(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = subject.metadata.namespace ?? 'default';
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
    const key = [subject.kind, namespace, subject.metadata.name, subject.metadata.uid ?? '', type, reason, text].join('\u0000');
    const now = new Date(this.#clock.now());
    const previous = this.#seen.get(key);
    try {
      if (previous !== undefined) {
        const count = previous.count + 1;
        try {
          this.#remember(
            key,
            await this.#api.patchEvent(namespace, previous.name, [
              { op: 'replace', path: '/count', value: count },
              { op: 'replace', path: '/lastTimestamp', value: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
            ]),
          );
          return;
        } catch (err) {
          // the Event expired (TTL) or changed under us: start a new one
          if (statusCode(err) !== 404 && statusCode(err) !== 409) throw err;
        }
      }
      const event: CoreV1Event = {
        metadata: { name: `${subject.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
        involvedObject: {
          apiVersion: subject.apiVersion,
          kind: subject.kind,
          name: subject.metadata.name,
          namespace,
          ...(subject.metadata.uid === undefined ? {} : { uid: subject.metadata.uid }),
          ...(subject.metadata.resourceVersion === undefined ? {} : { resourceVersion: subject.metadata.resourceVersion }),
        },
        type,
        reason,
        message: text,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: this.#instance,
      };
      this.#remember(key, await this.#api.createEvent(namespace, event));
    } catch (err) {
      this.#log.warn({ err, trigger: `${namespace}/${subject.metadata.name}`, reason }, 'could not record event');
    }
  }

  #remember(key: string, event: CoreV1Event): void {
    this.#seen.delete(key);
    if (event.metadata.name === undefined) return;
    this.#seen.set(key, { name: event.metadata.name, count: event.count ?? 1 });
    if (this.#seen.size > MAX_REMEMBERED) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }
}
