/**
 * What the console shows of `rejected/`: how many records each stage of the graph rejected, by reason, and
 * the newest rejections. Rejections carry their reason and a detail that names the user function that
 * failed (`operator <name> threw: …`, `aggregate <column>: …`), which places each one on a stage.
 */
import type { PipelineTopology } from '../../functions/core/engine/pipelineTopology';
import { REJECT_REASONS } from '../../functions/core/types';
import type { SummarizedObject } from '../start/bucketObjects';

/** Stage ids of the graph that can reject a record. */
export const STAGE = {
  CLEAN: 'clean',
  KEY_BY: 'keyBy',
  WINDOW: 'window',
  AGGREGATE: 'aggregate',
} as const;

/** The stage id of a user operator of the chain (map, filter, flatMap). */
export function operatorStage(name: string): string {
  return `operator:${name}`;
}

/** Longest payload text kept per rejection (the console shows a preview, `query` shows it all). */
export const PAYLOAD_PREVIEW_CHARS = 240;

/** One rejected record as the console lists it. Every string comes from the stream: render as text only. */
export interface RecentRejection {
  readonly reason: string;
  readonly detail: string;
  readonly stage: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** The payload as UTF-8 text, cut to {@link PAYLOAD_PREVIEW_CHARS}. */
  readonly payload: string;
}

/** What one `rejected/` object holds, reduced. */
export interface RejectedSummary {
  readonly records: number;
  readonly byStage: readonly (readonly [stage: string, count: number])[];
  readonly byReason: readonly (readonly [reason: string, count: number])[];
  /** The object's last rejections, oldest first (at most the `keep` it was summarised with). */
  readonly recent: readonly RecentRejection[];
}

/** Rejected records of a pipeline, over every object read. */
export interface RejectedView {
  readonly total: number;
  readonly byStage: Readonly<Record<string, number>>;
  readonly byReason: readonly { readonly reason: string; readonly count: number }[];
  /** Newest first. */
  readonly recent: readonly RecentRejection[];
}

/** Which stage of `topology` rejected a record with this reason and detail. */
export function rejectionStage(
  rejection: { readonly reason: string; readonly detail: string },
  topology: Pick<PipelineTopology, 'operators'>,
): string {
  if (rejection.reason === REJECT_REASONS.INVALID_KEY) return STAGE.KEY_BY;
  if (rejection.reason === REJECT_REASONS.STATE_LIMIT) return STAGE.WINDOW;
  // Only a user function's failure names its stage in the detail; another detail may start with text a
  // producer chose (a schema issue's path is a payload key), which must not move the rejection.
  if (
    rejection.reason !== REJECT_REASONS.OPERATOR_THREW &&
    rejection.reason !== REJECT_REASONS.OPERATOR_RETURNED_INVALID
  )
    return STAGE.CLEAN;
  const { detail } = rejection;
  if (detail.startsWith('aggregate ')) return STAGE.AGGREGATE;
  if (detail.startsWith('operator keyBy ')) return STAGE.KEY_BY;
  // Longest name first: an operator named `a b` must not be taken for one named `a`.
  const names = topology.operators.map((o) => o.name).sort((a, b) => b.length - a.length);
  const named = names.find((name) => detail.startsWith(`operator ${name} `));
  return named === undefined ? STAGE.CLEAN : operatorStage(named);
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Base64 characters of the most UTF-8 bytes {@link PAYLOAD_PREVIEW_CHARS} characters can take (4 each). */
const PREVIEW_BASE64_CHARS = Math.ceil((PAYLOAD_PREVIEW_CHARS * 4) / 3) * 4;

/**
 * The payload's first {@link PAYLOAD_PREVIEW_CHARS} UTF-16 units, with `…` when there is more: decoded from
 * enough bytes for that many characters, without a character cut in half at either limit.
 */
export function payloadPreview(data: string): string {
  const whole = data.length <= PREVIEW_BASE64_CHARS;
  let text = Buffer.from(whole ? data : data.slice(0, PREVIEW_BASE64_CHARS), 'base64').toString('utf8');
  // The bytes read may end inside a character: its U+FFFD is not the payload's.
  if (!whole && text.endsWith('\uFFFD')) text = text.slice(0, -1);
  if (whole && text.length <= PAYLOAD_PREVIEW_CHARS) return text;
  let cut = Math.min(text.length, PAYLOAD_PREVIEW_CHARS);
  if (cut < text.length && (text.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

function increment(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/**
 * Summarises one JSON Lines object of `rejected/`, keeping its last `keep` rejections. A line that is not a
 * JSON object counts under the reason `UNREADABLE_LINE` (stage clean).
 */
export function summarizeRejected(
  jsonLines: string,
  topology: Pick<PipelineTopology, 'operators'>,
  keep: number,
): RejectedSummary {
  const byStage = new Map<string, number>();
  const byReason = new Map<string, number>();
  const recent: RecentRejection[] = [];
  let records = 0;
  for (const line of jsonLines.split('\n')) {
    if (line.trim() === '') continue;
    records += 1;
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        parsed = value as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    const reason = parsed === undefined ? 'UNREADABLE_LINE' : text(parsed.reason) || 'UNKNOWN';
    const detail = parsed === undefined ? line.slice(0, PAYLOAD_PREVIEW_CHARS) : text(parsed.detail);
    const stage = rejectionStage({ reason, detail }, topology);
    increment(byStage, stage);
    increment(byReason, reason);
    recent.push({
      reason,
      detail,
      stage,
      shardId: text(parsed?.shardId),
      sequenceNumber: text(parsed?.sequenceNumber),
      partitionKey: text(parsed?.partitionKey),
      payload: payloadPreview(text(parsed?.data)),
    });
    if (recent.length > keep) recent.shift();
  }
  return { records, byStage: [...byStage], byReason: [...byReason], recent };
}

/** The pipeline's rejected records over its objects: counts added, the newest `keep` listed newest first. */
export function mergeRejected(
  objects: readonly SummarizedObject<RejectedSummary>[],
  keep: number,
): RejectedView {
  const byStage = new Map<string, number>();
  const byReason = new Map<string, number>();
  let total = 0;
  const ordered = [...objects].sort((a, b) => a.lastModified - b.lastModified || (a.key < b.key ? -1 : 1));
  const recent: RecentRejection[] = [];
  for (const { summary } of ordered) {
    total += summary.records;
    for (const [stage, count] of summary.byStage) increment(byStage, stage, count);
    for (const [reason, count] of summary.byReason) increment(byReason, reason, count);
    recent.push(...summary.recent);
  }
  return {
    total,
    byStage: Object.fromEntries(byStage),
    byReason: [...byReason]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
    recent: recent.slice(-keep).reverse(),
  };
}
