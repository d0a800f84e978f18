import { ApplicationFailure, type Client, type WorkflowExecutionInfo, WorkflowFailedError } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { SA } from '../temporal/search-attributes';
import type { RecipeResult, RunOutcome, StripeEventWorkflowInput, StripeEventWorkflowResult } from '../workflows';
import { stripeWorkflowId } from './start';

/** The filters of `runs list`; each one a visibility query clause. */
export interface RunsFilter {
  type?: string;
  customer?: string;
  outcome?: RunOutcome;
  /** Runs started at or after this time. */
  since?: Date;
  /** Temporal status: Running, Completed, Failed, Terminated… */
  status?: string;
}

export const OUTCOMES: RunOutcome[] = ['delivered', 'filtered', 'partial', 'failed'];

/** A visibility query string literal: double-quoted, with quotes and backslashes escaped. */
const literal = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The Temporal visibility query of `runs list`, the same text ops can paste into the Web UI's
 * search box, e.g. `WorkflowType = "stripeEventWorkflow" AND StripeCustomerId = "cus_123"`.
 */
export function runsQuery(filter: RunsFilter): string {
  const clauses = [`WorkflowType = "stripeEventWorkflow"`];
  if (filter.type) clauses.push(`${SA.eventType.name} = ${literal(filter.type)}`);
  if (filter.customer) clauses.push(`${SA.customerId.name} = ${literal(filter.customer)}`);
  if (filter.outcome) clauses.push(`${SA.outcome.name} = ${literal(filter.outcome)}`);
  if (filter.status) clauses.push(`ExecutionStatus = ${literal(filter.status)}`);
  if (filter.since) clauses.push(`StartTime >= ${literal(filter.since.toISOString())}`);
  return clauses.join(' AND ');
}

export interface RunRow {
  eventId: string;
  workflowId: string;
  runId: string;
  eventType?: string;
  customerId?: string;
  status: string;
  /** Set when the run ended; none while it runs. */
  outcome?: string;
  startTime: Date;
  closeTime?: Date;
}

type ExecutionInfo = Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'typedSearchAttributes' | 'status' | 'startTime' | 'closeTime'>;

function toRow(info: ExecutionInfo): RunRow {
  const sa = info.typedSearchAttributes;
  return {
    eventId: info.workflowId.replace(/^stripe\//, ''),
    workflowId: info.workflowId,
    runId: info.runId,
    eventType: sa.get(SA.eventType),
    customerId: sa.get(SA.customerId),
    status: info.status.name,
    outcome: sa.get(SA.outcome),
    startTime: info.startTime,
    closeTime: info.closeTime,
  };
}

/** Runs matching the filter, newest first, at most `limit`. */
export async function listRuns(client: Client, filter: RunsFilter, limit = 50): Promise<RunRow[]> {
  const rows: RunRow[] = [];
  for await (const info of client.workflow.list({ query: runsQuery(filter), pageSize: Math.min(limit, 1000) })) {
    rows.push(toRow(info));
    if (rows.length >= limit) break;
  }
  return rows;
}

export interface PendingActivity {
  activity: string;
  attempt: number;
  lastFailure?: string;
  nextAttemptAt?: string;
}

/** One run of an event: its result per recipe when it ended, or what it waits on while it runs. */
export interface RunReport extends RunRow {
  summary?: string;
  via?: string;
  recipes?: RecipeResult[];
  /** Why the run failed, as the workflow reported it. */
  failure?: string;
  pending?: PendingActivity[];
}

/** Every run of an event, oldest first (a `runs retry` adds a run under the same workflow id). */
export async function eventRuns(client: Client, eventId: string): Promise<RunReport[]> {
  const workflowId = stripeWorkflowId(eventId);
  const infos: ExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: `WorkflowId = ${literal(workflowId)}` })) infos.push(info);
  // Visibility is eventually consistent: a run started a moment ago may not be listed yet.
  if (infos.length === 0) {
    const latest = await client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    if (latest) infos.push(latest);
  }
  infos.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return Promise.all(infos.map((info) => runReport(client, info)));
}

async function runReport(client: Client, info: ExecutionInfo): Promise<RunReport> {
  const handle = client.workflow.getHandle(info.workflowId, info.runId, { followRuns: false });
  const description = await handle.describe();
  const report: RunReport = {
    ...toRow(description),
    summary: await description.staticSummary(),
    via: (description.memo?.via as string | undefined) ?? 'webhook',
  };
  if (description.status.name === 'COMPLETED') {
    report.recipes = ((await handle.result()) as StripeEventWorkflowResult).recipes;
  } else if (description.status.name === 'FAILED') {
    try {
      await handle.result();
    } catch (err) {
      const cause = err instanceof WorkflowFailedError ? err.cause : err;
      report.failure = (cause as Error)?.message ?? String(cause);
      const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as { recipes?: RecipeResult[] } | undefined) : undefined;
      if (details?.recipes) report.recipes = details.recipes;
    }
  } else if (description.status.name === 'RUNNING') {
    report.pending = (description.raw.pendingActivities ?? []).map((p) => ({
      activity: p.activityType?.name ?? '?',
      attempt: p.attempt ?? 1,
      ...(p.lastFailure?.message ? { lastFailure: p.lastFailure.message } : {}),
      ...(p.nextAttemptScheduleTime?.seconds ? { nextAttemptAt: new Date(Number(p.nextAttemptScheduleTime.seconds) * 1000).toISOString() } : {}),
    }));
  }
  return report;
}

/** The input a run was started with: the Stripe event and the recipe snapshot. */
export async function runInput(client: Client, workflowId: string, runId: string): Promise<StripeEventWorkflowInput> {
  const history = await client.workflow.getHandle(workflowId, runId, { followRuns: false }).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`The history of ${workflowId} has no start event.`);
  return decodeFromPayloadsAtIndex<StripeEventWorkflowInput>(client.options.loadedDataConverter, 0, started.input?.payloads);
}

/** A run report as text for a person: one line per run, then each recipe and its steps. */
export function formatReport(reports: RunReport[]): string {
  const lines: string[] = [];
  for (const [n, r] of reports.entries()) {
    lines.push(
      `run ${n + 1}/${reports.length} ${r.runId}  ${r.status}${r.outcome ? ` · outcome ${r.outcome}` : ''}  via ${r.via}  started ${r.startTime.toISOString()}${r.closeTime ? `  closed ${r.closeTime.toISOString()}` : ''}`,
    );
    if (r.summary) lines.push(`  ${r.summary}`);
    for (const recipe of r.recipes ?? []) {
      const why = recipe.outcome === 'failed' ? `: ${recipe.error}` : recipe.outcome === 'filtered' ? ` by step ${recipe.step} (${recipe.filter})` : '';
      lines.push(`  recipe ${recipe.recipeId}@${recipe.version}  ${recipe.outcome}${why}`);
      for (const s of recipe.steps) {
        const detail = [
          s.messageId && `messageId ${s.messageId}`,
          s.lookup && `lookup ${s.lookup}`,
          s.ai && `ai ${JSON.stringify(s.ai)}`,
          s.skipped && `skipped: ${s.skipped}`,
          s.workflowId && `${s.workflowId}${s.signaled === false ? ' (no open sequence)' : ''}`,
        ].filter(Boolean);
        lines.push(`    step ${s.step} ${s.type}  ${detail.join('  ')}`);
      }
    }
    if (r.failure && !r.recipes) lines.push(`  failure: ${r.failure}`);
    for (const p of r.pending ?? []) {
      lines.push(`  pending ${p.activity}  attempt ${p.attempt}${p.lastFailure ? `  last failure: ${p.lastFailure}` : ''}${p.nextAttemptAt ? `  next attempt ${p.nextAttemptAt}` : ''}`);
    }
  }
  return lines.join('\n');
}
