/**
 * Publishing a close pass's result rows (`.sink({ toStream })`, DESIGN.md §3): each row becomes its record
 * (`resultEntry`: id `<table>/<window start>/<key>`), put after the result objects are written and before the
 * emitted marks are raised. A row no Kinesis record can carry (over 1 MiB with its envelope and partition key:
 * `publishEntry`'s check, the one that rejects an oversize `.toStream()` value) would fail every pass and hold
 * its windows for ever; it is dead-lettered instead, like an oversize record: a JSON Lines object under
 * `rejected-results/<table>/` with reason `OVERSIZE_RECORD` (`rejectedResultKey`, named by its id, so a pass run
 * again writes the same object), counted, and the pass goes on. Its row stays in the result object: the table is
 * complete, only the stream copy is missing, and the downstream stage does not count it.
 */
import { encodeForRejection } from '../engine/batchOutput';
import {
  resultEntry,
  resultId,
  resultPartitionKey,
  resultValue,
  type PublishEntry,
} from '../engine/streamTap';
import { REJECT_REASONS, type ResultRow, type WindowBounds } from '../types';
import { mapWithConcurrency } from './concurrency';
import { PublishError } from './errors';
import { rejectedResultKey } from './paths';
import type { StreamPublisher } from './streamPublisher';
import type { ObjectStore } from './types';

/** One result row a close pass emits, with its key and window. */
export interface EmittedRow {
  readonly key: string;
  readonly window: WindowBounds;
  readonly row: ResultRow;
}

/** What `rejected-results/<table>/` holds for a result row its stream could not carry. */
export interface RejectedResult {
  readonly reason: typeof REJECT_REASONS.OVERSIZE_RECORD;
  readonly detail: string;
  readonly table: string;
  /** The id the row's record would have had (`resultId`). */
  readonly id: string;
  readonly key: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly partitionKey: string;
  /** The row's JSON, base64, cut to the rejection limit (the whole row is in the result object). */
  readonly data: string;
}

export class ResultPublishing {
  #deadLettered = 0;

  public constructor(
    private readonly objects: Pick<ObjectStore, 'putObject'>,
    private readonly publisher: Pick<StreamPublisher, 'stream' | 'publish'>,
    private readonly table: string,
    /** Dead letters put at once at most (a pass can hold many oversize rows). */
    private readonly concurrency: number,
  ) {}

  /**
   * Result rows dead-lettered so far by passes whose publish then succeeded: a pass whose publish fails
   * counts none (its run again counts them), a pass run again after a successful publish (it died before its
   * emitted marks) counts its rows again.
   */
  public get deadLettered(): number {
    return this.#deadLettered;
  }

  /**
   * Dead-letters the rows no record can carry (`concurrency` puts at a time), then publishes the others;
   * throws `PublishError` when the stream refuses records after the publisher's retries (the windows then
   * stay unemitted, and its letters are not counted).
   */
  public async publish(rows: readonly EmittedRow[]): Promise<void> {
    const entries: PublishEntry[] = [];
    const letters: RejectedResult[] = [];
    for (const { key, window, row } of rows) {
      const entry = resultEntry(this.table, key, window, row);
      if (!('problem' in entry)) {
        entries.push(entry);
        continue;
      }
      const detail = `The result row of key ${JSON.stringify(key.slice(0, 100))} in window ${window.start} of table ${this.table} ${entry.problem}`;
      // A row is plain JSON (`resultValue`): nothing but its size can stop it.
      if (!entry.oversize)
        throw new PublishError(`${detail}: report it, with the pipeline's definition, as a bug`);
      letters.push({
        reason: REJECT_REASONS.OVERSIZE_RECORD,
        detail: `${detail}; its row is in the table, not in stream ${this.publisher.stream}`,
        table: this.table,
        id: resultId(this.table, window.start, key),
        key,
        windowStart: window.start,
        windowEnd: window.end,
        partitionKey: resultPartitionKey(key),
        data: encodeForRejection(resultValue(row)),
      });
    }
    await mapWithConcurrency(letters, this.concurrency, (letter) =>
      this.objects.putObject(
        rejectedResultKey(this.table, letter.windowStart, letter.id),
        `${JSON.stringify(letter)}\n`,
        'application/x-ndjson',
      ),
    );
    if (entries.length > 0) await this.publisher.publish(entries);
    this.#deadLettered += letters.length;
  }
}
