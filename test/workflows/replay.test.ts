import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { HISTORIES } from '../helpers/histories';
import { quietRuntime } from '../helpers/temporal';

const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
const load = (file: string) => JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
const workflowType = (history: { events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[] }) =>
  history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;

/**
 * Every history in test/histories (recorded from end-to-end runs with RECORD_HISTORY=1) must
 * replay on the current workflow code. A change that would break workflows already running in
 * production (a step added, removed or reordered without `patched()`) fails here, in CI.
 */
describe('replay of recorded runs', () => {
  beforeAll(() => quietRuntime());

  it('has recorded runs of every workflow type', () => {
    expect(new Set(files.map((f) => workflowType(load(f))))).toEqual(new Set(['stripeEventWorkflow', 'dunningWorkflow', 'reconcileWorkflow']));
  });

  it.each(files)('%s replays on this code', async (file) => {
    await Worker.runReplayHistory({ workflowsPath: require.resolve('../../src/workflows'), replayName: file }, load(file));
  });

  it('catches a change that is not guarded by patched()', async () => {
    const file = files.find((f) => workflowType(load(f)) === 'stripeEventWorkflow')!;
    await expect(
      Worker.runReplayHistory({ workflowsPath: require.resolve('../fixtures/changed-workflows'), replayName: file }, load(file)),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
