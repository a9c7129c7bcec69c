// Names of a user's workflows and the workflows of their jobs, for one live event stream: learnt from
// the events themselves where they say it, else read from the read model, else (the read model may
// lag behind the log) from the actors. Cached for the stream, bounded.
import type { CommandHandler } from '../actors/command-handler.ts';
import { jobDecider } from '../actors/job-decider.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import type { Db } from './db.ts';

export type WorkflowRef = { id: string; name: string; kind?: string };

export class WorkflowDirectory {
  private readonly workflows = new Map<string, WorkflowRef>();
  private readonly jobWorkflow = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly commands: CommandHandler,
    private readonly userId: string,
  ) {}

  /** Learns what the event itself says (a new workflow's name, a job's workflow). */
  observe(e: EventEnvelope): void {
    if (this.workflows.size > 1000) this.workflows.clear();
    if (this.jobWorkflow.size > 10_000) this.jobWorkflow.clear();
    if (e.type === 'WorkflowCreated')
      this.workflows.set(e.aggregateId, { id: e.aggregateId, name: e.data.name, kind: e.data.kind });
    if (e.type === 'WorkflowUpdated' && e.data.changes.name !== undefined) {
      const known = this.workflows.get(e.aggregateId);
      if (known) known.name = e.data.changes.name;
    }
    if (e.type === 'JobCreated') this.jobWorkflow.set(e.aggregateId, e.data.workflow_id);
  }

  /** The workflow the event is about (a job's event: the job's workflow). */
  async workflowOf(e: EventEnvelope): Promise<WorkflowRef | undefined> {
    const id = e.aggregate === 'job' ? await this.workflowIdOfJob(e.aggregateId) : e.aggregateId;
    if (!id) return undefined;
    const known = this.workflows.get(id);
    if (known) return known;
    const row = await this.db
      .selectFrom('workflows')
      .select(['id', 'name', 'kind'])
      .where('id', '=', id)
      .where('user_id', '=', this.userId)
      .executeTakeFirst();
    let ref: WorkflowRef | undefined = row;
    if (!ref) {
      // The read model may lag behind the log: the actor knows.
      const wf = await this.commands.load(workflowDecider, this.userId, id);
      if (wf.exists) ref = { id, name: wf.state.context.name, kind: wf.state.context.kind };
    }
    if (ref) this.workflows.set(id, ref);
    return ref;
  }

  private async workflowIdOfJob(jobId: string): Promise<string | undefined> {
    const known = this.jobWorkflow.get(jobId);
    if (known) return known;
    const row = await this.db
      .selectFrom('jobs')
      .select('workflow_id')
      .where('id', '=', jobId)
      .where('user_id', '=', this.userId)
      .executeTakeFirst();
    let id = row?.workflow_id;
    if (!id) {
      const job = await this.commands.load(jobDecider, this.userId, jobId);
      if (job.exists) id = job.state.context.workflow_id;
    }
    if (id) this.jobWorkflow.set(jobId, id);
    return id;
  }
}
