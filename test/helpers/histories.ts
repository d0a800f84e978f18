import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** Histories recorded from end-to-end runs; test/workflows/replay.test.ts replays each one. */
export const HISTORIES = path.resolve(__dirname, '..', 'histories');

/**
 * With RECORD_HISTORY=1, writes the history of a finished run to test/histories/<name>.json.
 * Re-record only after a deliberate change guarded with `patched()` (README "Changing a workflow").
 */
export async function recordHistory(client: Client, name: string, workflowId: string, runId?: string): Promise<void> {
  if (process.env.RECORD_HISTORY !== '1') return;
  const history = await client.workflow.getHandle(workflowId, runId, { followRuns: false }).fetchHistory();
  writeFileSync(path.join(HISTORIES, `${name}.json`), `${historyToJSON(history)}\n`);
}
