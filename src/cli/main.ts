// The one entry point: `chronoverse <role|command>`.
import { stackCommand } from './stack-command.ts';

const [command, ...args] = process.argv.slice(2);

async function main(): Promise<number> {
  switch (command) {
    case 'stack':
      return stackCommand(args);
    default:
      console.error(`usage: chronoverse stack up|down|status|reset`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
