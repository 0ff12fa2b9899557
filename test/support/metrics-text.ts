/** Reading the Prometheus text a dispatcher serves on /metrics. */

/** The value of one sample, e.g. `sampleValue(text, 'kurier_dispatcher_deliveries_total', { outcome: 'delivered' })`; 0 when absent. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return 0;
}

/** The /metrics text of the dispatcher listening on `port` (127.0.0.1). */
export async function metricsText(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${String(port)}/metrics`, { signal: AbortSignal.timeout(2_000) });
  return response.text();
}
