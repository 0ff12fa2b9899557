/** The `kurier` command: the composition root for every subcommand. */
import { argv, exit, stderr, stdout } from 'node:process';

const USAGE = `usage: kurier <command> [options]

commands:
  render -f FILE|DIR|- [--templates DIR] [--allow-cross-namespace]   print the dispatcher Deployment of every trigger
  validate -f FILE|DIR|-                                           check triggers against the CRD schemas and semantics
  dispatch <kafka|pulsar|nats|rabbitmq|cron>                       run a dispatcher (configured by environment)
  controller [options]                                             run the controller
`;

function main(args: string[]): Promise<number> | number {
  const [command] = args;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  stderr.write(`kurier: unknown command "${command}"\n${USAGE}`);
  return 2;
}

exit(await main(argv.slice(2)));
