import fc from 'fast-check';
import { parse as parseYaml12 } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKubectlYaml } from '../../cli/kubectl-yaml.js';
import { stringifyForKubectl } from '../../cli/kubectl-yaml-writer.js';
import { startApiServer, type ApiServerDouble } from '../support/apiserver/index.js';
import { hasKubectl, kubectlReads } from '../support/kubectl-dry-run.js';

/** Strings that are something else, or something else to some reader, when written plain. */
const TRICKY = [
  'on', 'On', 'ON', 'off', 'yes', 'Yes', 'no', 'NO', 'y', 'Y', 'n', 'N', 'true', 'False', 'null', 'Null', '~', '',
  '0755', '010', '0o17', '0x1F', '0b101', '1_000', '1e3', '1.0', '.5', '+1', '-1', '.inf', '-.Inf', '.nan', 'NaN',
  '1:30', '12:30:45', '190:20:30', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '=', '<<', '-', '?', ':', '#x', 'a #b',
  'a: b', '- a', '[x]', '{x}', '*a', '&a', '!x', '%x', '@x', '`x', '"q"', "'q'", ' lead', 'trail ', 'two\nlines', 'tab\tin',
  'plain', 'http://fn.default:8080/', '30 7 * * 1-5', 'kafka-brokers.replace-me.invalid:9092',
];

function roundTrip(value: unknown): { value: unknown; ambiguous: number } {
  const [document, ...rest] = parseKubectlYaml(stringifyForKubectl(value));
  expect(rest).toEqual([]);
  expect(document?.errors).toEqual([]);
  return { value: document?.value, ambiguous: document?.ambiguous.length ?? -1 };
}

// JSON-like values as Kurier's triggers hold them: no -0, integers kubectl and JavaScript agree on.
const scalar = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).filter((n) => !Object.is(n, -0)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.boolean(),
  fc.constant(null),
);
const key = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', maxLength: 8 }));
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(key, tie('tree'), { maxKeys: 4 })),
}));
const objects = fc.dictionary(key, tree, { minKeys: 1, maxKeys: 6 });

describe('stringifyForKubectl', () => {
  it.each(TRICKY)('writes %j so that kubectl, YAML 1.1 and YAML 1.2 all read the string back', (text) => {
    const value = { [text]: text, list: [text] };
    expect(roundTrip(value)).toEqual({ value, ambiguous: 0 });
    expect(parseYaml12(stringifyForKubectl(value))).toEqual(value);
  });

  it('quotes on, yes, 0755 and 1:30, and leaves plain what nobody reads differently', () => {
    const out = stringifyForKubectl({ a: 'on', b: 'yes', c: '0755', d: '1:30', e: 'orders', f: 8080, g: true });
    expect(out).toBe('a: "on"\nb: "yes"\nc: "0755"\nd: "1:30"\ne: orders\nf: 8080\ng: true\n');
  });

  it('writes comments above the fields they name, and a header above the document', () => {
    const out = stringifyForKubectl({ spec: { kafka: { brokers: ['b:9092'], topic: 't' } } }, {
      header: 'from a.yaml:0',
      comments: [{ path: ['spec', 'kafka', 'brokers'], text: 'FILL IN\nsecond line' }],
    });
    expect(out).toBe('# from a.yaml:0\n\nspec:\n  kafka:\n    # FILL IN\n    # second line\n    brokers:\n      - b:9092\n    topic: t\n');
    expect(() => stringifyForKubectl({ a: 1 }, { comments: [{ path: ['b'], text: 'x' }] })).toThrow('no field b to comment on');
  });

  it('round-trips any JSON-like value through the repository\'s kubectl reader, with no scalar YAML 1.1 and 1.2 read differently (property, 500 runs)', () => {
    fc.assert(fc.property(objects, (value) => {
      const back = roundTrip(value);
      expect(back).toEqual({ value, ambiguous: 0 });
      expect(parseYaml12(stringifyForKubectl(value))).toEqual(value);
    }), { numRuns: 500 });
  });
});

describe.skipIf(!hasKubectl)('stringifyForKubectl read back by the real kubectl (skipped: kubectl is not installed; set KUBECTL to point at it)', () => {
  let server: ApiServerDouble;
  beforeAll(async () => {
    server = await startApiServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads 300 generated documents exactly as written (tricky strings as keys and values, nested lists and maps)', async () => {
    const samples = fc.sample(objects, { numRuns: 300, seed: 14 });
    const documents = samples.map((data, index) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `round-trip-${index}`, namespace: 'default' }, data }));
    const stream = documents.map((document) => stringifyForKubectl(document)).join('---\n');
    expect(await kubectlReads(server, stream)).toEqual(documents);
  }, 60_000);
});
