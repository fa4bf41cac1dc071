import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { QueryError } from '../../../../localstack/query/errors';
import { mirrorBucket } from '../../../../localstack/query/mirrorBucket';

/** A real client (the SDK paginator checks the class) whose `send` answers from the test. */
function withSend(send: (command: ListObjectsV2Command | GetObjectCommand) => Promise<object>): S3Client {
  const s3 = new S3Client({ region: 'us-east-1' });
  s3.send = send as unknown as S3Client['send'];
  return s3;
}

function stubS3(objects: Record<string, string>, pageSize = 2): { s3: S3Client; listed: object[] } {
  const keys = Object.keys(objects).sort();
  const listed: object[] = [];
  const s3 = withSend(async (command: ListObjectsV2Command | GetObjectCommand): Promise<object> => {
    if (command instanceof ListObjectsV2Command) {
      listed.push(command.input);
      const start = Number(command.input.ContinuationToken ?? 0);
      const page = keys
        .filter((k) => k.startsWith(command.input.Prefix ?? ''))
        .slice(start, start + pageSize);
      const more = start + pageSize < keys.filter((k) => k.startsWith(command.input.Prefix ?? '')).length;
      return {
        Contents: page.map((Key) => ({ Key })),
        ...(more ? { NextContinuationToken: String(start + pageSize), IsTruncated: true } : {}),
      };
    }
    const body = objects[command.input.Key ?? ''];
    if (body === undefined)
      throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    return { Body: { transformToByteArray: async () => new TextEncoder().encode(body) } };
  });
  return { s3, listed };
}

describe('mirrorBucket', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-mirror-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when objects exist under the prefix, it copies the Parquet ones across every list page, keeping keys', async () => {
    const { s3, listed } = stubS3({
      'results/t/dt=2026-01-01/hour=12/a.parquet': 'A',
      'results/t/dt=2026-01-01/hour=13/b.parquet': 'BB',
      'results/u/dt=2026-01-01/hour=12/c.parquet': 'CCC',
      'results/u/_tmp.json': 'skip',
      'rejected/x.parquet': 'not under prefix',
    });
    const copied = await mirrorBucket({ s3, bucket: 'b', prefix: 'results/', dir });
    expect(copied).toEqual({ objects: 3, bytes: 6 });
    expect(readFileSync(join(dir, 'results/t/dt=2026-01-01/hour=13/b.parquet'), 'utf8')).toBe('BB');
    expect(existsSync(join(dir, 'results/u/_tmp.json'))).toBe(false);
    expect(existsSync(join(dir, 'rejected/x.parquet'))).toBe(false);
    expect(listed.length).toBe(2);
  });

  it('when a key would escape the mirror directory, it refuses it', async () => {
    const { s3 } = stubS3({ 'results/../../etc/evil.parquet': 'x' });
    await expect(mirrorBucket({ s3, bucket: 'b', prefix: 'results/', dir })).rejects.toThrow(
      'Refusing object key outside the mirror: results/../../etc/evil.parquet',
    );
  });

  it('when the bucket cannot be listed, it throws a one-line QueryError naming the bucket', async () => {
    const s3 = withSend(async () => {
      throw Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });
    });
    const error = await mirrorBucket({ s3, bucket: 'missing', prefix: 'results/', dir }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QueryError);
    expect((error as Error).message).toBe(
      'Cannot list s3://missing/results/: NoSuchBucket: The specified bucket does not exist',
    );
  });
});
