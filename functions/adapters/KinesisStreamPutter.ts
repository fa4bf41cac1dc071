/**
 * Kinesis PutRecords for `.toStream()` (`core/state/streamPublisher.ts` decides what to put and retries what
 * the stream refused): this class only speaks Kinesis.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { PublishEntry } from '../core/engine/streamTap';
import type { StreamPutter } from '../core/state/streamPublisher';
import { kinesisClient } from './aws';

export class KinesisStreamPutter implements StreamPutter {
  public constructor(private readonly client: KinesisClient = kinesisClient()) {}

  public async putRecords(stream: string, entries: readonly PublishEntry[]): Promise<readonly number[]> {
    const out = await this.client.send(
      new PutRecordsCommand({
        ...(stream.startsWith('arn:') ? { StreamARN: stream } : { StreamName: stream }),
        Records: entries.map((entry) => ({
          Data: Buffer.from(entry.data, 'utf8'),
          PartitionKey: entry.partitionKey,
        })),
      }),
    );
    const results = out.Records ?? [];
    // A response that does not answer for every entry leaves them all unconfirmed: put again.
    if (results.length !== entries.length) return entries.map((_, i) => i);
    return results.flatMap((result, i) =>
      result.ErrorCode !== undefined || result.SequenceNumber === undefined ? [i] : [],
    );
  }
}
