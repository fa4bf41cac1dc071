/**
 * The side outputs of one commit (DESIGN.md §4–5): the cleaned records (`clean/`), the rejected ones
 * (`rejected/`) and the late ones (`late/`), one JSON Lines object each, written before the commit so that
 * a committed batch always has them.
 *
 * An object is named by the attempt's first and last record (the late one also by the close mark its
 * records were judged by), so two attempts write the same name only with the same content. Attempts that
 * start at the same record but end elsewhere (a bisected retry) leave objects under the same prefix: an
 * attempt that loses removes its own (`attemptOutputs.ts`), and what crashed attempts leave is swept behind
 * the shard's commit log (`outputSweep.ts`).
 */
import type { PreparedRecords } from '../engine/types';
import type { EpochMillis, LateRecord, RawRecord } from '../types';

import { batchObjectKey, type SideOutput } from './paths';
import type { CommitOutputs, ObjectStore, Segment, StatefulPipeline } from './types';
import { padSequence } from '../sequence';
import { InvalidOptionError } from '../errors';

/** The objects of one commit: the key of each side output. */
interface OutputNames {
  readonly keys: Readonly<Record<SideOutput, string>>;
}

function jsonLines(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join('\n') + '\n';
}

function namesOf(
  pipeline: StatefulPipeline,
  shardId: string,
  outputs: CommitOutputs,
  lastSequence: string,
): OutputNames {
  const { spec } = pipeline;
  const tag = lateObjectTag(outputs.judgedBy);
  const where: Record<SideOutput, string> = {
    clean: spec.source.stream,
    rejected: spec.source.stream,
    // A publish-only pipeline (no sink) has no windows, so no late records.
    late: spec.sink?.table ?? spec.source.stream,
  };
  const key = (output: SideOutput): string =>
    batchObjectKey(
      output,
      where[output],
      outputs.time,
      shardId,
      outputs.firstSequence,
      lastSequence,
      output === 'late' ? tag : undefined,
    );
  return {
    keys: { clean: key('clean'), rejected: key('rejected'), late: key('late') },
  };
}

/**
 * The part of a late/ object's name that says which close mark its records were judged by: as stored (a close
 * mark of +∞ reads back as the largest safe integer), so names agree across reads.
 */
export function lateObjectTag(judgedBy: EpochMillis): string {
  return judgedBy === -Infinity ? 'open' : String(Math.min(judgedBy, Number.MAX_SAFE_INTEGER));
}

/** What names the side outputs of a commit over `fresh` judged by `judgedBy`. */
export function commitOutputs(fresh: readonly RawRecord[], judgedBy: EpochMillis): CommitOutputs {
  const first = fresh[0];
  if (first === undefined) throw new InvalidOptionError('A commit has at least one record');
  return {
    firstSequence: padSequence(first.sequenceNumber),
    time: first.approximateArrivalTimestamp,
    judgedBy,
  };
}

/** Writes the side outputs of one commit attempt (the shard's records `fresh`, in sequence order). */
export async function writeSideOutputs(
  objects: ObjectStore,
  pipeline: StatefulPipeline,
  fresh: readonly RawRecord[],
  outputs: CommitOutputs,
  prepared: PreparedRecords,
  late: readonly LateRecord[],
): Promise<void> {
  const last = fresh[fresh.length - 1]!;
  const shardId = last.shardId;
  const { keys } = namesOf(pipeline, shardId, outputs, padSequence(last.sequenceNumber));
  const bodies: [string, readonly unknown[]][] = [
    [
      keys.clean,
      prepared.cleaned.map((r) => ({
        shardId,
        sequenceNumber: r.sequenceNumber,
        eventTime: r.eventTime,
        value: r.value,
      })),
    ],
    [keys.rejected, prepared.rejected],
    [keys.late, late],
  ];
  const settled = await Promise.allSettled(
    bodies
      .filter(([, body]) => body.length > 0)
      .map(([key, body]) => objects.putObject(key, jsonLines(body), 'application/x-ndjson')),
  );
  const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * Removes the side outputs of one attempt that is known not to have committed and never can (its commit was
 * refused before the call, `StateLimitError`: the same range never fits), so none of its keys is a committed
 * one. Idempotent.
 */
export async function removeAttemptOutputs(
  objects: ObjectStore,
  pipeline: StatefulPipeline,
  fresh: readonly RawRecord[],
  outputs: CommitOutputs,
): Promise<void> {
  const last = fresh[fresh.length - 1]!;
  const { keys } = namesOf(pipeline, last.shardId, outputs, padSequence(last.sequenceNumber));
  await Promise.all(Object.values(keys).map((key) => objects.deleteObject(key)));
}

/**
 * Removes the side outputs of an attempt that lost its place in the shard's log to `winner` (a commit from
 * the same first record), except those whose names are the winner's (same range, same close mark: the same
 * records). A winner without its close mark (written before it was stored) keeps the attempt's late/ object.
 */
export async function removeLostOutputs(
  objects: ObjectStore,
  pipeline: StatefulPipeline,
  fresh: readonly RawRecord[],
  outputs: CommitOutputs,
  winner: Segment,
): Promise<void> {
  const last = fresh[fresh.length - 1]!;
  const own = namesOf(pipeline, last.shardId, outputs, padSequence(last.sequenceNumber)).keys;
  const theirs = namesOf(
    pipeline,
    last.shardId,
    { ...outputs, judgedBy: winner.judgedBy ?? outputs.judgedBy },
    winner.lastSequence,
  ).keys;
  const keep = new Set(Object.values(theirs));
  if (winner.judgedBy === undefined) keep.add(own.late);
  await Promise.all(
    Object.values(own)
      .filter((key) => !keep.has(key))
      .map((key) => objects.deleteObject(key)),
  );
}
