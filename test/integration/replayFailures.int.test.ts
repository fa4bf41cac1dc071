/**
 * `shardflow replay-failures`, run through the installed bin against the embedded local cloud: a batch the
 * operator's mapping skipped (its on-failure record written as the local event source mapping writes it) is
 * read back from Kinesis and applied exactly once, the record moves out of the counted prefix, and a second
 * run finds nothing to do.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createClients } from '../../functions/adapters/aws';
import { readShardRange } from '../../functions/adapters/streamShards';
import { pageActivity } from '../../functions/pipelines';
import { S3FailureDestination } from '../../localstack/eventSourceMapping/failureDestinations';
import { buildFailureRecord } from '../../localstack/eventSourceMapping/kinesisEvent';
import { useLocalCloud } from '../helpers/localCloud';
import { statefulCloudRun } from '../helpers/statefulCloud';
import { createActiveStream } from '../helpers/streamRoundTrip';

// hyparquet-writer is ESM only; jest's CommonJS runtime loads it through the fault suite's interop shim.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'localstack', 'cli', 'bin.js');
const STREAM = pageActivity.spec.source.stream;
const MAPPING = '6f1a0d52-5c1e-4a8e-9f0e-1d2c3b4a5f60';
const PREFIX = `aws/lambda/${MAPPING}/`;

const cloud = useLocalCloud();

async function cli(args: readonly string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, [BIN, ...args], { env, timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const listed = await createClients().s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

describe('shardflow replay-failures', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-replay-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when the mapping skipped a batch, the bin replays it exactly once and a second run finds nothing', async () => {
    const { kinesis } = createClients();
    await createActiveStream(kinesis, STREAM, 1);
    const start = Date.now() - 10 * 60_000;
    const events = Array.from({ length: 30 }, (_, i) => ({
      eventId: randomUUID(),
      userId: `u${i % 4}`,
      sessionId: `s${i % 4}`,
      page: `/p/${i % 3}`,
      action: i % 5 === 0 ? 'purchase' : 'view',
      country: 'DE',
      device: 'mobile',
      durationMs: 100 + i,
      revenue: i % 5 === 0 ? 10 : 0,
      ts: new Date(start + i * 1_000).toISOString(),
    }));
    const put = await kinesis.send(
      new PutRecordsCommand({
        StreamName: STREAM,
        Records: events.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: 'producer' })),
      }),
    );
    const sequences = (put.Records ?? []).map((r) => r.SequenceNumber ?? '');
    const shardId = put.Records?.[0]?.ShardId ?? '';
    const records = await readShardRange(kinesis, STREAM, shardId, sequences[0]!, sequences[29]!);
    expect(records).toHaveLength(30);

    const state = await statefulCloudRun(pageActivity, Date.now());
    const operator = state.instance();
    await operator.apply(records.slice(0, 10));
    // 10..19 failed every retry: Lambda wrote its on-failure record and moved on.
    await operator.apply(records.slice(20));
    const skipped = records.slice(10, 20);
    const record = buildFailureRecord({
      records: skipped.map((r) => ({
        sequenceNumber: r.sequenceNumber,
        partitionKey: r.partitionKey,
        data: Buffer.from(r.data, 'base64'),
        approximateArrivalTimestamp: r.approximateArrivalTimestamp,
      })),
      context: {
        shardId,
        streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`,
        region: 'us-east-1',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/operator',
      },
      requestId: randomUUID(),
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:operator',
      condition: 'RetryAttemptsExhausted',
      invokeCount: 3,
      now: Date.now(),
    });
    await new S3FailureDestination(createClients().s3, state.bucket).send(MAPPING, record, { Records: [] });
    expect(await keys(state.bucket, PREFIX)).toHaveLength(1);

    const env = { ...process.env, AWS_ENDPOINT_URL: cloud().endpoint, SHARDFLOW_STATE_DIR: dir };
    const flags = ['--bucket', state.bucket, '--state-table', state.table];
    writeFileSync(
      join(dir, 'outputs.json'),
      JSON.stringify({ [`FailurePrefixPageActivity`]: PREFIX, StreamNamePageActivity: STREAM }),
    );

    const dry = await cli(['replay-failures', ...flags, '--dry-run'], env);
    expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: '' });
    expect(dry.stdout).toContain('10 records in the stream (dry run: nothing applied)');
    expect(await keys(state.bucket, PREFIX)).toHaveLength(1);

    const replayed = await cli(['replay-failures', ...flags], env);
    expect({ code: replayed.code, stderr: replayed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(replayed.stdout).toMatch(
      /10 records, 0 already applied, 10 applied as shardId-\d+\.replay-[0-9a-f]{12}/,
    );
    expect(replayed.stdout).toContain('1 of 1 skipped batches replayed.');
    expect(await keys(state.bucket, PREFIX)).toEqual([]);
    expect(await keys(state.bucket, 'failed-batches/replayed/aws/lambda/')).toHaveLength(1);

    const again = await cli(['replay-failures', ...flags], env);
    expect(again.stdout).toContain('No skipped batches to replay.');

    // Something else under the prefix counts in FailedBatchesPending too: named, and the run fails.
    const stray = `${PREFIX}${shardId}/notes.txt`;
    await createClients().s3.send(
      new PutObjectCommand({ Bucket: state.bucket, Key: stray, Body: 'not a failure record' }),
    );
    const strayRun = await cli(['replay-failures', ...flags], env);
    expect(strayRun.code).toBe(1);
    expect(strayRun.stdout).toContain(`${stray}: skipped: not JSON`);
    expect(strayRun.stderr).toBe(
      'shardflow: 1 objects under the on-failure prefix are not Lambda on-failure records (listed above) and keep FailedBatchesPending raised: remove them once inspected\n',
    );
    expect(await keys(state.bucket, PREFIX)).toEqual([stray]);

    await state.instance().tick(Number.POSITIVE_INFINITY);
    const rows = await state.rows('page, events, purchases');
    expect(rows.reduce((n, r) => n + Number(r.events), 0)).toBe(30);
    expect(rows.reduce((n, r) => n + Number(r.purchases), 0)).toBe(6);
    await state.dispose();
  }, 240_000);

  test('when the flags are wrong, it says which and changes nothing', async () => {
    const env = { ...process.env, AWS_ENDPOINT_URL: cloud().endpoint, SHARDFLOW_STATE_DIR: dir };
    const lone = await cli(['replay-failures', '--failure-prefix', PREFIX], env);
    expect(lone.code).toBe(1);
    expect(lone.stderr).toContain('--failure-prefix names one mapping: give --pipeline as well');
    const bad = await cli(
      ['replay-failures', '--pipeline', 'page-activity', '--failure-prefix', 'results/'],
      env,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      '--failure-prefix must look like aws/lambda/<mapping uuid>/ (given results/)',
    );
    const unknown = await cli(['replay-failures', '--pipeline', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'Unknown pipeline "nope": not a shipped pipeline (page-activity) nor a .ts/.js pipeline file',
    );
  }, 120_000);
});
