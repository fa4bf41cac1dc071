/**
 * Interprets a function's response under `ReportBatchItemFailures`, as Lambda does for streams:
 * null/empty response or an empty/null `batchItemFailures` list is a complete success; an item whose
 * `itemIdentifier` is missing, null, empty, not a string or not a sequence number of the batch makes
 * the whole batch a failure; otherwise the batch resumes from the lowest reported sequence number.
 */
export type PartialBatchVerdict =
  | { readonly kind: 'success' }
  | { readonly kind: 'failure'; readonly reason: string }
  | { readonly kind: 'partial'; readonly resumeIndex: number };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function interpretBatchResponse(
  payload: unknown,
  sequenceNumbers: readonly string[],
): PartialBatchVerdict {
  if (payload === null || payload === undefined) return { kind: 'success' };
  if (!isObject(payload)) return { kind: 'success' };
  const failures = payload['batchItemFailures'];
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  if (failures.length === 0) return { kind: 'success' };
  let resumeIndex = Number.POSITIVE_INFINITY;
  for (const failure of failures) {
    const id = isObject(failure) ? failure['itemIdentifier'] : undefined;
    if (typeof id !== 'string' || id === '')
      return { kind: 'failure', reason: `invalid itemIdentifier ${JSON.stringify(id)}` };
    const index = sequenceNumbers.indexOf(id);
    if (index === -1) return { kind: 'failure', reason: `itemIdentifier ${id} is not in the batch` };
    resumeIndex = Math.min(resumeIndex, index);
  }
  return { kind: 'partial', resumeIndex };
}
