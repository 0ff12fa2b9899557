import { describe, expect, it } from 'vitest';
import { readDocuments } from '../../cli/input.js';
import { goJsonMarshal } from '../../cli/go-json.js';
import { convertKubeless } from '../../cli/kubeless-convert.js';
import type { ConvertOptions } from '../../cli/kubeless-source.js';
import { loadVerdictSettings } from '../../cli/verdict-settings.js';
import { judgeTrigger } from '../../render/verdict.js';
import { repoRoot } from '../support/run-kurier.js';

const options: ConvertOptions = { allowCrossNamespace: true, functionPorts: new Map() };

describe('goJsonMarshal: the payload bytes kubeless cronjob-trigger sent (Go json.Marshal of the decoded payload)', () => {
  it('sorts object keys byte-wise at every depth, integer-like keys included', () => {
    expect(goJsonMarshal({ b: 1, a: { d: [true, null], c: 'x' }, 10: 'ten', 9: 'nine', B: 2 })).toBe('{"10":"ten","9":"nine","B":2,"a":{"c":"x","d":[true,null]},"b":1}');
  });

  it('escapes <, > and & as Go does, and writes a bare string as a JSON string', () => {
    expect(goJsonMarshal({ html: '<a href="x">&</a>' })).toBe('{"html":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"}');
    expect(goJsonMarshal('hello')).toBe('"hello"');
    expect(goJsonMarshal([1.5, -2, 'line\nbreak'])).toBe('[1.5,-2,"line\\nbreak"]');
  });
});

describe('convertKubeless', () => {
  it('reads apiVersion/kind/metadata and leaves the verdict to judge the result; unknown spec fields are named', () => {
    const result = convertKubeless({ apiVersion: 'kubeless.io/v1beta1', kind: 'NATSTrigger', metadata: { name: 'a', namespace: 'n' }, spec: { topic: 's', functionSelector: {}, extra: 1 } }, { ...options, natsUrl: 'nats://n:4222' });
    expect(result).toEqual({
      converted: {
        trigger: { apiVersion: 'kurier.dev/v1alpha1', kind: 'NATSTrigger', metadata: { name: 'a', namespace: 'n' }, spec: { nats: { url: 'nats://n:4222', subject: 's' }, functionSelector: {} } },
        notes: [
          { path: 'spec.extra', message: "not a field of kubeless' NATSTrigger; not carried over" },
          { path: 'spec.functionSelector', message: 'empty: kubeless chose every Function in the namespace with it; Kurier refuses an empty selector (it would choose every Service): give the labels of the functions meant' },
        ],
        comments: [],
      },
    });
  });

  it('converts another version of a kubeless kind as the version kubeless wrote, and says so', () => {
    const result = convertKubeless({ apiVersion: 'kubeless.io/v1', kind: 'CronJobTrigger', metadata: { name: 'a' }, spec: { schedule: '@daily', 'function-name': 'f', payload: 'x' } }, { ...options, functionPorts: new Map([['/f', 3000]]) });
    expect(result).toEqual({
      converted: {
        trigger: { apiVersion: 'kurier.dev/v1alpha1', kind: 'CronTrigger', metadata: { name: 'a' }, spec: { cron: { schedule: '@daily', payload: '"x"' }, function: { service: { name: 'f', port: 3000 } } } },
        notes: [{ path: 'apiVersion', message: 'kubeless wrote CronJobTrigger as kubeless.io/v1beta1; read kubeless.io/v1 as that version' }],
        comments: [],
      },
    });
  });
});

/** The dispatcher env Kurier renders for a trigger. */
function envOf(trigger: unknown, settings: Awaited<ReturnType<typeof loadVerdictSettings>>): Record<string, string> {
  const { deployment, problems } = judgeTrigger(trigger, settings);
  expect(problems.filter((problem) => problem.severity === 'error')).toEqual([]);
  const containers = (deployment as unknown as { spec: { template: { spec: { containers: { name: string; env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers;
  const dispatcher = containers.find((container) => container.name === 'dispatcher');
  return Object.fromEntries((dispatcher?.env ?? []).map((variable) => [variable.name, variable.value ?? '(from a Secret)']));
}

describe('a converted PulsarTrigger reaches what Kurier reaches with the kubeless-pulsar-trigger manifest as written (apiVersion changed only)', async () => {
  const settings = await loadVerdictSettings(new Map(), new Set(['--allow-cross-namespace']));
  const documents = [...await readDocuments(`${repoRoot}examples/kubeless/pulsar-trigger-1.0.yaml`), ...await readDocuments(`${repoRoot}examples/kubeless/pulsar-trigger-pre-1.0.yaml`)];

  it.each(documents.map((document) => [(document.value as { metadata: { name: string } }).metadata.name, document.value] as const))('%s: same topic, subscription, broker and function; the same variables for custom dispatcher images', (_name, value) => {
    const asWritten = envOf({ ...(value as object), apiVersion: 'kurier.dev/v1alpha1' }, settings);
    const result = convertKubeless(value, options);
    if (!('converted' in result)) throw new Error(result.skipped);
    const converted = envOf(result.converted.trigger, settings);
    const same = ['PULSAR_TOPIC', 'PULSAR_TOPIC_TYPE', 'PULSAR_TOPIC_NAMESPACE', 'PULSAR_TOPIC_NAME', 'PULSAR_SUBSCRIPTION', 'PULSAR_BROKER', 'PULSAR_AUTH_TOKEN', 'KUBELESS_FUNCTION_NAMESPACE', 'KUBELESS_FUNCTION_PORT', 'KUBELESS_FUNCTION_SCHEME', 'KUBELESS_FUNCTION_SCHEMA'];
    for (const name of same) expect(converted[name], name).toBe(asWritten[name]);
    // The same Service: http://NAME.NAMESPACE:PORT and http://NAME.NAMESPACE.svc.cluster.local:PORT/ resolve alike in the cluster.
    const service = (url: string | undefined): string => {
      const parsed = new URL(url ?? '');
      return `${parsed.protocol}//${parsed.hostname.replace(/\.svc\.cluster\.local$/, '')}:${parsed.port}`;
    };
    expect(service(converted['FUNCTION_URL'])).toBe(service(asWritten['FUNCTION_URL']));
    // KUBELESS_FUNCTION is the function's name only in the pre-1.0 form; with spec.function it is the URL (docs/pulsar.md).
    const spec = result.converted.trigger['spec'] as { kubeless?: unknown };
    expect(converted['KUBELESS_FUNCTION']).toBe(spec.kubeless === undefined ? converted['FUNCTION_URL'] : asWritten['KUBELESS_FUNCTION']);
    expect(converted['PULSAR_TOPIC']).toMatch(/^(non-)?persistent:\/\/[^/]+\/[^/]+\/[^/]+$/);
  });
});
