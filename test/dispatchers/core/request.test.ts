import { describe, expect, it } from 'vitest';
import { buildHeaders, contentTypeOf, isoTime } from '../../../dispatchers/core/request.js';
import { message } from './helpers.js';

const context = { source: 'nats' as const, trigger: { kind: 'NATSTrigger', name: 'orders', namespace: 'shop', uid: 'u' } };

describe('the request a function sees', () => {
  it('carries CloudEvents binary headers, the kubeless headers and the message headers', () => {
    const msg = message({ id: 'S:42', topic: 'orders.created', headers: { 'x-tenant': 'acme', 'content-length': '99' }, time: new Date('2026-03-04T05:06:07.089Z') });
    expect(buildHeaders(msg, context)).toEqual({
      'x-tenant': 'acme',
      'content-type': 'application/json',
      'event-id': 'S:42',
      'event-type': 'application/json',
      'event-time': '2026-03-04T05:06:07.089Z',
      'event-namespace': 'natstriggers.kubeless.io',
      'event-topic': 'orders.created',
      'event-name': 'orders',
      'ce-specversion': '1.0',
      'ce-id': 'S:42',
      'ce-source': '/apis/kurier.dev/v1alpha1/namespaces/shop/natstriggers/orders',
      'ce-type': 'dev.kurier.nats.message',
      'ce-time': '2026-03-04T05:06:07.089Z',
      'ce-subject': 'orders.created',
    });
  });

  it('gives the same headers on every redelivery of a message', () => {
    const msg = message({ id: 'stable' });
    expect(buildHeaders({ ...msg, redeliveries: 3 }, context)).toEqual(buildHeaders(msg, context));
  });

  it('keeps the identity of a message that already is a binary-mode CloudEvent', () => {
    const headers = buildHeaders(message({ headers: { 'ce-id': 'abc', 'ce-specversion': '1.0', 'ce-type': 'com.example.x', 'ce-source': '/x' } }), context);
    expect(headers).toMatchObject({ 'ce-id': 'abc', 'ce-type': 'com.example.x', 'ce-source': '/x', 'event-id': 'abc' });
  });

  it('keeps a structured-mode CloudEvent as it is, without adding binary headers', () => {
    const body = Buffer.from(JSON.stringify({ specversion: '1.0', id: 'evt-1', type: 't', source: '/s' }));
    const headers = buildHeaders(message({ body, contentType: 'application/cloudevents+json' }), context);
    expect(headers['ce-id']).toBeUndefined();
    expect(headers['event-id']).toBe('evt-1');
    expect(headers['content-type']).toBe('application/cloudevents+json');
  });

  it('uses the message content type, else JSON for a JSON body, else octet-stream', () => {
    expect(contentTypeOf(message({ contentType: 'text/csv', body: Buffer.from('{}') }))).toBe('text/csv');
    expect(contentTypeOf(message({ headers: { 'content-type': 'text/plain' } }))).toBe('text/plain');
    expect(contentTypeOf(message({ body: Buffer.from(' [1,2]') }))).toBe('application/json');
    expect(contentTypeOf(message({ body: Buffer.from('hello') }))).toBe('application/octet-stream');
    expect(contentTypeOf(message({ body: Buffer.from('{broken') }))).toBe('application/octet-stream');
    expect(contentTypeOf(message({ body: Buffer.alloc(0) }))).toBe('application/octet-stream');
  });

  it('drops message headers that HTTP cannot carry instead of failing the delivery', () => {
    const headers = buildHeaders(message({ headers: { 'bad name': 'x', 'x-multi': 'a\nb', host: 'evil' } }), context);
    expect(headers['bad name']).toBeUndefined();
    expect(headers['x-multi']).toBeUndefined();
    expect(headers.host).toBeUndefined();
  });
});

describe('metadata that cannot be sent', () => {
  it('leaves out a time outside the range of a date, reports it, and builds every other header', () => {
    const dropped: string[] = [];
    const headers = buildHeaders(message({ id: 'p/0/7', time: new Date(1_733_000_000_000_000_000) }), context, (problem) => dropped.push(problem));
    expect(headers['ce-time']).toBeUndefined();
    expect(headers['event-time']).toBeUndefined();
    expect(headers).toMatchObject({ 'ce-id': 'p/0/7', 'event-id': 'p/0/7', 'ce-specversion': '1.0' });
    expect(dropped).toEqual([expect.stringContaining('outside the range of a date')]);
  });

  it('reports each message header it leaves out', () => {
    const dropped: string[] = [];
    buildHeaders(message({ headers: { 'bad name': 'x', 'x-multi': 'a\nb', 'x-fine': 'y' } }), context, (problem) => dropped.push(problem));
    expect(dropped).toEqual(['header "bad name" cannot be sent over HTTP', 'header "x-multi" cannot be sent over HTTP']);
  });
});

describe('isoTime (remembers the last millisecond it formatted)', () => {
  it('gives each time its own ISO form, the same one within a millisecond, and none for an impossible time', () => {
    const times = [1_700_000_000_000, 1_700_000_000_000, 1_700_000_000_001, 0, 1_700_000_000_001, -1];
    expect(times.map((ms) => isoTime(new Date(ms)))).toEqual(times.map((ms) => new Date(ms).toISOString()));
    expect(isoTime(new Date(8.64e15 + 1))).toBeUndefined();
    expect(isoTime(new Date(5))).toBe('1970-01-01T00:00:00.005Z');
  });
});
