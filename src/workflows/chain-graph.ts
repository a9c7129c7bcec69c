// The chains of a user's workflows as a graph (an edge from a workflow to each one its chain names,
// whatever the outcome): a definition may be saved only if it closes no cycle, since a cycle would
// run for ever (the depth cap only stops it after the fact). Pure.
import type { WorkflowChain } from '../events/workflow-events.ts';

export function chainTargets(chain: WorkflowChain | null | undefined): string[] {
  if (!chain) return [];
  return [...new Set([...(chain.on_success ?? []), ...(chain.on_failure ?? []), ...(chain.on_end ?? [])])];
}

/**
 * The cycle `workflowId`'s chain would close, as the ids along it from `workflowId` back to it, or
 * undefined when there is none. `chains` holds every other workflow's chain (the saved one's is
 * `chain`); the graph before the change had no cycle, so any new one passes through `workflowId`.
 */
export function chainCycle(
  workflowId: string,
  chain: WorkflowChain,
  chains: ReadonlyMap<string, WorkflowChain | null>,
): string[] | undefined {
  const next = (id: string) => (id === workflowId ? chainTargets(chain) : chainTargets(chains.get(id)));
  const seen = new Set<string>();
  const path: string[] = [workflowId];
  const walk = (id: string): boolean => {
    for (const target of next(id)) {
      if (target === workflowId) {
        path.push(target);
        return true;
      }
      if (seen.has(target)) continue;
      seen.add(target);
      path.push(target);
      if (walk(target)) return true;
      path.pop();
    }
    return false;
  };
  return walk(workflowId) ? path : undefined;
}
