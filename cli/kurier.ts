/** The `kurier` command: the composition root for every subcommand. */
import { argv, exit, stderr, stdout } from 'node:process';

const USAGE = `usage: kurier <command> [options]

commands:
  render -f FILE|DIR|- [--templates DIR] [--allow-cross-namespace]
        print the dispatcher Deployment of every trigger in the file(s)
  validate -f FILE|DIR|-
        check triggers against the CRD schemas and semantically; exit 1 when invalid
  dispatch <kafka|pulsar|nats|rabbitmq|cron>
        run a dispatcher, configured only by environment variables
  demo [--messages N] [--nats URL] [--fail-every K]
        run an embedded NATSTrigger end to end: render, dispatcher, flaky local function
  controller [--kubeconfig FILE] [--namespaces a,b] [--templates DIR] [--leader-elect] ...
        run the controller
`;

type Command = (args: readonly string[]) => Promise<number>;

const commands: Readonly<Record<string, () => Promise<Command>>> = {
  render: async () => (await import('./render.js')).runRender,
  validate: async () => (await import('./validate.js')).runValidate,
  dispatch: async () => (await import('../dispatchers/main.js')).runDispatch,
  controller: async () => (await import('../controller/main.js')).runController,
  demo: async () => (await import('./demo.js')).runDemo,
};

async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? stderr : stdout).write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    stderr.write(`kurier: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  const command = await load();
  return command(rest);
}

exit(await main(argv.slice(2)));
