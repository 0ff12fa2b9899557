/** The `kurier` command: the composition root for every subcommand. */
import { argv, stderr, stdout } from 'node:process';
import packageJson from '../package.json' with { type: 'json' };
import { exitAfterOutput } from './exit.js';

const USAGE = `usage: kurier <command> [options]

commands:
  render -f FILE|DIR|- [-f …] [--templates DIR] [--allow-cross-namespace]
        print the dispatcher Deployment of every trigger in the file(s)
  validate -f FILE|DIR|- [-f …] [--crd FILE]
        check triggers against the CRD schemas and semantically; exit 1 when invalid
  convert -f FILE|DIR|- [-f …] [--kafka-brokers LIST] [--nats-url URL]
        print Kurier triggers for kubeless Kafka/NATS/CronJob triggers and kubeless-pulsar-trigger's PulsarTriggers
  run -f FILE [--function-url URL] [--secret NAME/KEY=VALUE …] [--secrets-file FILE]
        run one trigger's dispatcher on this machine, exactly as the controller would
  dispatch <kafka|pulsar|nats|rabbitmq|cron>
        run a dispatcher, configured only by environment variables
  demo [--messages N] [--nats URL] [--fail-every K]
        run an embedded NATSTrigger end to end: render, dispatcher, flaky local function
  controller [--kubeconfig FILE] [--namespaces a,b] [--templates DIR] [--leader-elect] ...
        run the controller
  version
        print the version

Every command takes -h/--help. Exit codes: 0 ok, 1 failure or invalid input, 2 usage.
`;

type Command = (args: readonly string[]) => Promise<number>;

const version: Command = (args) => {
  if (args.length > 0 && !(args.length === 1 && (args[0] === '-h' || args[0] === '--help'))) {
    stderr.write(`kurier version: unexpected argument ${args[0] ?? ''}\n`);
    return Promise.resolve(2);
  }
  stdout.write(args.length === 0 ? `kurier ${packageJson.version}\n` : 'usage: kurier version\n');
  return Promise.resolve(0);
};

const commands: Readonly<Record<string, () => Promise<Command>>> = {
  render: async () => (await import('./render.js')).runRender,
  validate: async () => (await import('./validate.js')).runValidate,
  convert: async () => (await import('./convert.js')).runConvert,
  run: async () => (await import('./run.js')).runTrigger,
  dispatch: async () => (await import('../dispatchers/main.js')).runDispatch,
  controller: async () => (await import('../controller/main.js')).runController,
  demo: async () => (await import('./demo.js')).runDemo,
  version: () => Promise.resolve(version),
};

async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    stderr.write(USAGE);
    return 2;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    stdout.write(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-v') return version([]);
  const load = commands[name];
  if (load === undefined) {
    stderr.write(`kurier: unknown ${name.startsWith('-') ? 'option' : 'command'} "${name}" (run "kurier --help" for the commands)\n`);
    return 2;
  }
  const command = await load();
  return command(rest);
}

await exitAfterOutput(await main(argv.slice(2)));
