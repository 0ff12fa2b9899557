/**
 * resource.Quantity as the API server stores it: parsed, rounded up to nano precision and written back
 * in canonical form in the format it was given (`0.5` → `500m`, `1.5Gi` → `1536Mi`, `1000` → `1k`,
 * a JSON number → a string; a binary amount under 1Ki or with a fraction of a unit becomes decimal).
 */

export const QUANTITY_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const QUANTITY = new RegExp(QUANTITY_PATTERN);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exp]) => [exp, suffix]));

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export class QuantityError extends Error {}

const pow = (base: bigint, exp: number): bigint => base ** BigInt(exp);

/** The value in nano units (rounded up, away from zero as Kubernetes does) and the format it was written in. */
function parseQuantity(text: string): { nanos: bigint; format: Format } {
  const m = QUANTITY.exec(text);
  const numberPart = m?.[1] ?? '';
  const suffix = m?.[2] ?? '';
  if (!m || !NUMBER.test(numberPart)) throw new QuantityError(`quantities must match the regular expression '${QUANTITY_PATTERN}'`);
  const negative = numberPart.startsWith('-');
  const [whole = '', fraction = ''] = numberPart.replace(/^[+-]/, '').split('.');
  // value = digits × 10^-fraction.length × multiplier; everything stays an exact integer ratio
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = pow(10n, fraction.length);
  let format: Format;
  if (suffix in DECIMAL_SUFFIXES) {
    format = 'DecimalSI';
    const exp = DECIMAL_SUFFIXES[suffix] ?? 0;
    if (exp >= 0) numerator *= pow(10n, exp);
    else denominator *= pow(10n, -exp);
  } else if (BINARY_SUFFIXES.includes(suffix)) {
    format = 'BinarySI';
    numerator *= pow(1024n, BINARY_SUFFIXES.indexOf(suffix));
  } else if (/^[eE][-+]?\d+$/.test(suffix)) {
    format = 'DecimalExponent';
    const exp = Number(suffix.slice(1));
    if (exp >= 0) numerator *= pow(10n, exp);
    else denominator *= pow(10n, -exp);
  } else throw new QuantityError(`unable to parse quantity's suffix`);
  const scaled = numerator * pow(10n, 9);
  let nanos = scaled / denominator;
  if (scaled % denominator !== 0n) nanos += 1n;
  return { nanos: negative ? -nanos : nanos, format };
}

/** The largest exponent (a multiple of 3, from -9 to 18) that leaves an integer mantissa. */
function decimal(nanos: bigint): { mantissa: bigint; exp: number } {
  if (nanos === 0n) return { mantissa: 0n, exp: 0 };
  for (let exp = 18; exp > -9; exp -= 3) {
    const unit = pow(10n, exp + 9);
    if (nanos % unit === 0n) return { mantissa: nanos / unit, exp };
  }
  return { mantissa: nanos, exp: -9 };
}

/** The canonical string of a quantity given as a string or a JSON number. */
export function canonicalQuantity(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new QuantityError(`quantities must be strings or numbers, got ${value === null ? 'null' : typeof value}`);
  const { nanos, format } = parseQuantity(String(value));
  const abs = nanos < 0n ? -nanos : nanos;
  const sign = nanos < 0n ? '-' : '';
  const oneUnit = pow(10n, 9);
  if (format === 'BinarySI' && abs >= 1024n * oneUnit && abs % oneUnit === 0n) {
    const units = abs / oneUnit;
    let k = BINARY_SUFFIXES.length - 1;
    while (k > 0 && units % pow(1024n, k) !== 0n) k--;
    return `${sign}${String(units / pow(1024n, k))}${BINARY_SUFFIXES[k] ?? ''}`;
  }
  const { mantissa, exp } = decimal(abs);
  if (format === 'DecimalExponent') return `${sign}${String(mantissa)}${exp === 0 ? '' : `e${String(exp)}`}`;
  return `${sign}${String(mantissa)}${DECIMAL_BY_EXPONENT.get(exp) ?? ''}`;
}

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function canonicalizeList(map: unknown): void {
  if (!isMap(map)) return;
  for (const [name, q] of Object.entries(map)) {
    if (q !== null) map[name] = canonicalQuantity(q);
  }
}

function canonicalizeRequirements(resources: unknown): void {
  if (!isMap(resources)) return;
  canonicalizeList(resources.limits);
  canonicalizeList(resources.requests);
}

/** Canonicalises every quantity of a pod spec in place: container resources, overhead, volume sizes. */
export function canonicalizePodSpecQuantities(podSpec: unknown): void {
  if (!isMap(podSpec)) return;
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    const containers = podSpec[list];
    if (!Array.isArray(containers)) continue;
    for (const c of containers as unknown[]) if (isMap(c)) canonicalizeRequirements(c.resources);
  }
  canonicalizeRequirements(podSpec.resources);
  canonicalizeList(podSpec.overhead);
  const volumes = podSpec.volumes;
  if (!Array.isArray(volumes)) return;
  for (const v of volumes as unknown[]) {
    if (!isMap(v)) continue;
    if (isMap(v.emptyDir) && v.emptyDir.sizeLimit !== undefined && v.emptyDir.sizeLimit !== null) v.emptyDir.sizeLimit = canonicalQuantity(v.emptyDir.sizeLimit);
    const claim = isMap(v.ephemeral) && isMap(v.ephemeral.volumeClaimTemplate) ? v.ephemeral.volumeClaimTemplate.spec : undefined;
    if (isMap(claim)) canonicalizeRequirements(claim.resources);
  }
}
