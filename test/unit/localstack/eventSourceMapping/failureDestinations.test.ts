import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  FileFailureDestination,
  S3FailureDestination,
  SqsFailureDestination,
  failureObjectKey,
} from '../../../../localstack/eventSourceMapping/failureDestinations';
import {
  buildFailureRecord,
  buildKinesisEvent,
} from '../../../../localstack/eventSourceMapping/kinesisEvent';

const context = {
  shardId: 'shardId-000000000001',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
  region: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/r',
};
const records = [
  {
    sequenceNumber: '100',
    partitionKey: 'k',
    data: Buffer.from('bad'),
    approximateArrivalTimestamp: 1_700_000_000_000,
  },
];
const record = buildFailureRecord({
  records,
  context,
  requestId: 'req',
  functionArn: 'arn:fn',
  condition: 'RetryAttemptsExhausted',
  invokeCount: 3,
  now: Date.UTC(2026, 0, 2, 3, 4, 5),
});
const event = buildKinesisEvent(records, context);

class Capture {
  public readonly inputs: Record<string, unknown>[] = [];
  public async send(command: { input: Record<string, unknown> }): Promise<object> {
    this.inputs.push(command.input);
    return {};
  }
}

describe('failure destinations', () => {
  it('when naming an S3 failure object, it follows Lambda’s key layout', () => {
    expect(
      failureObjectKey('uuid-1', 'shardId-000000000001', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), 'rand'),
    ).toBe('aws/lambda/uuid-1/shardId-000000000001/2026/01/02/2026-01-02T03.04.05-rand');
  });

  it('when sending to S3, it writes the invocation record with the event as payload under the mapping and shard', async () => {
    const s3 = new Capture();
    await new S3FailureDestination(s3 as unknown as S3Client, 'failures').send('uuid-1', record, event);
    const input = s3.inputs[0] as { Bucket: string; Key: string; Body: string };
    expect(input.Bucket).toBe('failures');
    expect(input.Key).toMatch(
      /^aws\/lambda\/uuid-1\/shardId-000000000001\/2026\/01\/02\/2026-01-02T03\.04\.05-[0-9a-f-]{36}$/,
    );
    expect(JSON.parse(input.Body)).toEqual({ ...record, payload: event });
  });

  it('when sending to SQS, it sends the invocation record as the message body', async () => {
    const sqs = new Capture();
    await new SqsFailureDestination(sqs as unknown as SQSClient, 'http://q/000000000000/dlq').send(
      'uuid-1',
      record,
    );
    expect(sqs.inputs).toEqual([
      { QueueUrl: 'http://q/000000000000/dlq', MessageBody: JSON.stringify(record) },
    ]);
  });

  it('when there is no SQS, it appends the invocation record to a JSON-lines file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlq-'));
    try {
      const destination = new FileFailureDestination(join(dir, 'queues'), 'dlq');
      await destination.send('uuid-1', record);
      await destination.send('uuid-1', record);
      const lines = readFileSync(destination.path, 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([record, record]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
