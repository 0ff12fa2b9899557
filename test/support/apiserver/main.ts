import { parseArgs } from 'node:util';
import { startApiServer } from './index.js';

// Standalone entry: `npm run apiserver -- --port 8001 --kubeconfig /tmp/kc [--crd crd.yaml] [--auto-create-namespaces]`.
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    kubeconfig: { type: 'string' },
    crd: { type: 'string', multiple: true },
    'auto-create-namespaces': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port: expected a port number, got "${values.port}"\n`);
  process.exit(2);
}
const server = await startApiServer({
  port,
  crds: values.crd ?? [],
  autoCreateNamespaces: values['auto-create-namespaces'],
  ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
});
process.stdout.write(`apiserver double listening on ${server.url}\nkubeconfig: ${server.kubeconfigPath}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
