/**
 * `shardflow send` against the embedded local cloud: JSON Lines, CSV and Parquet files land on the
 * stream, one Kinesis record per input record, keyed by the chosen field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  waitUntilStreamExists,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createClients } from '../../functions/adapters/aws';
import { generateClickstream, RECORD_KINDS } from '../../localstack/generator/clickstream';
import { useLocalCloud } from '../helpers/localCloud';
import { writeParquetFixture } from '../unit/localstack/query/parquetFixture';
import { runCli as cli } from '../helpers/cli';

describe('shardflow send', () => {
  const cloud = useLocalCloud();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-send-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function streamRecords(stream: string): Promise<_Record[]> {
    const { kinesis } = createClients();
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    const records: _Record[] = [];
    for (const shard of Shards) {
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      let iterator = ShardIterator;
      for (let i = 0; iterator !== undefined && i < 20; i++) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...(page.Records ?? []));
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return records;
  }

  async function createStream(name: string): Promise<void> {
    const { kinesis } = createClients();
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
    await waitUntilStreamExists({ client: kinesis, maxWaitTime: 30 }, { StreamName: name });
  }

  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    AWS_ENDPOINT_URL: cloud().endpoint,
    SHARDFLOW_STATE_DIR: dir,
  });

  it('when a JSON Lines file is sent with --key, every line becomes one record with that partition key', async () => {
    await createStream('send-jsonl');
    const lines = Array.from({ length: 1203 }, (_, i) => JSON.stringify({ id: i, user: `u${i % 5}` }));
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n{broken\n`);
    const result = await cli(['send', file, '--stream', 'send-jsonl', '--key', 'user'], env());
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('sent 1204 records to send-jsonl');
    const records = await streamRecords('send-jsonl');
    const payloads = records.map((r) => new TextDecoder().decode(r.Data));
    expect(payloads.sort()).toEqual([...lines, '{broken'].sort());
    const keyOf = new Map(records.map((r) => [new TextDecoder().decode(r.Data), r.PartitionKey]));
    expect(keyOf.get(lines[7] as string)).toBe('u2');
    expect(keyOf.get('{broken')).toBe('record-1203');
  }, 60_000);

  it('when run reads an S3 prefix, it gives the rows of the same data read from a file; a clean/ archive replays', async () => {
    const { s3 } = createClients();
    await s3.send(new CreateBucketCommand({ Bucket: 'replay' }));
    const { records } = generateClickstream({ events: 150, seed: 4 });
    const lines = records.map((r) => r.data);
    const half = Math.floor(lines.length / 2);
    const put = (key: string, body: string) =>
      s3.send(new PutObjectCommand({ Bucket: 'replay', Key: key, Body: body }));
    await put('input/part-1.jsonl', `${lines.slice(0, half).join('\n')}\n`);
    await put('input/part-2.jsonl', `${lines.slice(half).join('\n')}\n`);
    await put('input/_SUCCESS', 'ok');
    const file = join(dir, 'all.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const rows = async (input: string) => {
      const result = await cli(
        ['run', 'page-activity', '--input', input, '--in-memory', '-f', 'json'],
        env(),
      );
      expect({
        code: result.code,
        error: result.stderr.split('\n').filter((l) => l.startsWith('shardflow:')),
      }).toEqual({ code: 0, error: [] });
      return JSON.parse(result.stdout) as unknown[];
    };
    const fromFile = await rows(file);
    expect(fromFile.length).toBeGreaterThan(0);
    expect(await rows('s3://replay/input/')).toEqual(fromFile);

    // The archive holds cleaned values; replaying it equals running the valid events themselves.
    const valid = records.filter((r) => r.kind === RECORD_KINDS.EVENT || r.kind === RECORD_KINDS.DUPLICATE);
    const archive = valid.map((r, i) =>
      JSON.stringify({
        shardId: 'shardId-000000000000',
        sequenceNumber: String(i + 1),
        eventTime: Date.parse(r.event?.ts ?? ''),
        value: r.event,
      }),
    );
    await put(
      'clean/clickstream/dt=2026-01-01/hour=12/shardId-000000000000-1-9.jsonl',
      `${archive.join('\n')}\n`,
    );
    const validFile = join(dir, 'valid.jsonl');
    writeFileSync(validFile, `${valid.map((r) => r.data).join('\n')}\n`);
    expect(await rows('s3://replay/clean/clickstream/')).toEqual(await rows(validFile));
  }, 120_000);

  it('when CSV and Parquet files are sent, each row arrives as a JSON object', async () => {
    await createStream('send-tabular');
    const csv = join(dir, 'rows.csv');
    writeFileSync(csv, 'id,page,amount\n1,/,2.5\n2,/cart,\n');
    const parquet = join(dir, 'rows.parquet');
    writeParquetFixture(parquet, [
      { name: 'id', type: 'INT64', data: [3] },
      { name: 'page', type: 'STRING', data: ['/help'] },
    ]);
    for (const file of [csv, parquet]) {
      const result = await cli(
        ['send', file, '--stream', 'send-tabular', '--key', 'page', '--rate', '100'],
        env(),
      );
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    }
    const values = (await streamRecords('send-tabular')).map(
      (r) => JSON.parse(new TextDecoder().decode(r.Data)) as object,
    );
    expect(values).toEqual(
      expect.arrayContaining([
        { id: 1, page: '/', amount: 2.5 },
        { id: 2, page: '/cart', amount: null },
        { id: 3, page: '/help' },
      ]),
    );
    expect(values).toHaveLength(3);
  }, 60_000);
});
