import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { findTemporalCli } from '../../src/temporal/binaries';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

/**
 * A real Temporal dev server (the project's pinned `temporal` CLI, never a download), with the
 * project's search attributes registered.
 */
export function createLocalTestEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalCli() },
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
}

/** Worker and bundler chatter at INFO drowns test output; keep WARN and above. */
export function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed in this process.
  }
}
