import type { ConnectionLike } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { ALL_SEARCH_ATTRIBUTES } from './search-attributes';

/** Stripe retries a webhook for up to 3 days; dedup by workflow id must cover that window. */
export const MIN_RETENTION_SECONDS = 72 * 3600;

export interface NamespaceSetupResult {
  addedSearchAttributes: string[];
  retentionSeconds: number;
  retentionRaised: boolean;
}

/** The namespace's retention in seconds: how long Temporal keeps a closed run (0 if it reports none). */
export async function namespaceRetentionSeconds(connection: ConnectionLike, namespace: string): Promise<number> {
  const described = await connection.workflowService.describeNamespace({ namespace });
  return Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
}

/**
 * Idempotent: registers the project's search attributes and raises the namespace retention to
 * at least 72 h. Run against the embedded dev server and against clusters alike.
 */
export async function ensureNamespaceSetup(connection: ConnectionLike, namespace: string): Promise<NamespaceSetupResult> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = ALL_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
      ),
    });
  }

  const current = await namespaceRetentionSeconds(connection, namespace);
  let retentionRaised = false;
  if (current < MIN_RETENTION_SECONDS) {
    await connection.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs(MIN_RETENTION_SECONDS * 1000) },
    });
    retentionRaised = true;
  }
  return {
    addedSearchAttributes: missing.map((k) => k.name),
    retentionSeconds: Math.max(current, MIN_RETENTION_SECONDS),
    retentionRaised,
  };
}
