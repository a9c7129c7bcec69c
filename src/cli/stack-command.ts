// `chronoverse stack up|down|status|reset [--quiet]`; `up --nats-cluster N` runs NATS as a cluster of N
// nodes (as CV_STACK_NATS_CLUSTER=N does).
import { natsClusterSize } from '../stack/paths.ts';
import { stackDown, stackReset, stackStatus, stackUp } from '../stack/stack.ts';

export async function stackCommand(args: readonly string[]): Promise<number> {
  const quiet = args.includes('--quiet');
  const log = quiet ? () => {} : (m: string) => console.log(`[stack] ${m}`);
  const clusterAt = args.indexOf('--nats-cluster');
  const clusterArg = clusterAt < 0 ? undefined : args[clusterAt + 1];
  const action =
    args.find((a, i) => !a.startsWith('--') && (clusterAt < 0 || i !== clusterAt + 1)) ?? 'status';
  switch (action) {
    case 'up': {
      if (clusterArg !== undefined) process.env.CV_STACK_NATS_CLUSTER = clusterArg;
      const natsNodes = natsClusterSize();
      await stackUp(
        quiet
          ? (m) =>
              m.startsWith('warning') || m.startsWith('installing') ? console.log(`[stack] ${m}`) : undefined
          : log,
        { natsNodes },
      );
      return 0;
    }
    case 'down':
      await stackDown(log);
      return 0;
    case 'reset':
      await stackReset(log);
      return 0;
    case 'status': {
      const rows = await stackStatus();
      for (const r of rows) {
        const how = r.managed ? `pid ${r.pid ?? '-'} ${r.running ? 'running' : 'stopped'}` : 'external';
        const ready = r.ready === undefined ? '-     ' : r.ready ? 'ready ' : 'down  ';
        console.log(`${r.name.padEnd(11)} ${ready} ${how.padEnd(22)} ${r.address}`);
      }
      return rows.every((r) => r.ready !== false) ? 0 : 1;
    }
    default:
      console.error(`unknown stack action "${action}": use up, down, status or reset`);
      return 2;
  }
}
