import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent } from 'aws-lambda';
import { batchInfoOf, type FailureDestination, type FailureRecord } from './types';

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * The object key Lambda uses for an S3 on-failure destination:
 * `aws/lambda/<mapping uuid>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random uuid>`.
 */
export function failureObjectKey(
  mappingUuid: string,
  shardId: string,
  at: Date,
  id: string = randomUUID(),
): string {
  const y = at.getUTCFullYear();
  const m = pad(at.getUTCMonth() + 1);
  const d = pad(at.getUTCDate());
  const time = `${pad(at.getUTCHours())}.${pad(at.getUTCMinutes())}.${pad(at.getUTCSeconds())}`;
  return `aws/lambda/${mappingUuid}/${shardId}/${y}/${m}/${d}/${y}-${m}-${d}T${time}-${id}`;
}

/**
 * S3 destination: one JSON object per discarded batch: the invocation record plus `payload`, the
 * event the function was invoked with (`{ Records: [...] }`, the shape LocalStack writes too).
 */
export class S3FailureDestination implements FailureDestination {
  public constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  public async send(mappingUuid: string, record: FailureRecord, event: KinesisStreamEvent): Promise<void> {
    const key = failureObjectKey(mappingUuid, batchInfoOf(record).shardId, new Date(record.timestamp));
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify({ ...record, payload: event }),
        ContentType: 'application/json',
      }),
    );
  }
}

/** SQS destination: the invocation record (metadata only, like Lambda) as the message body. */
export class SqsFailureDestination implements FailureDestination {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  public async send(_mappingUuid: string, record: FailureRecord): Promise<void> {
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(record) }),
    );
  }
}

/**
 * A local stand-in for a destination the local cloud has no emulator for (SQS on the embedded
 * cloud): appends each invocation record as one JSON line to `<dir>/<name>.jsonl`.
 */
export class FileFailureDestination implements FailureDestination {
  public constructor(
    private readonly dir: string,
    private readonly name: string,
  ) {}

  public get path(): string {
    return join(this.dir, `${this.name}.jsonl`);
  }

  public async send(_mappingUuid: string, record: FailureRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.path, `${JSON.stringify(record)}\n`);
  }
}
