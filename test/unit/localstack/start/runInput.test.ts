import { InputError } from '../../../../localstack/start/errors';
import { parseS3Url, unwrapArchived } from '../../../../localstack/start/runInput';
import { timestampText } from '../../../../localstack/start/boundedRun';
import { unpadSequence } from '../../../../localstack/start/pipelineStatus';

describe('run input and status helpers', () => {
  it('when the input is an S3 URL, it splits bucket and prefix; a local path is not a URL', () => {
    expect(parseS3Url('s3://my-bucket/clean/clickstream/')).toEqual({
      bucket: 'my-bucket',
      prefix: 'clean/clickstream/',
    });
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Url('data/clicks.jsonl')).toBeUndefined();
  });

  it('when an S3 URL is malformed, it throws an InputError naming it', () => {
    expect(() => parseS3Url('s3://Bad_Bucket/x')).toThrow(
      new InputError('Invalid S3 URL: s3://Bad_Bucket/x (expected s3://bucket/prefix)'),
    );
  });

  it('when a timestamp is printed, it reads like DuckDB TIMESTAMP text', () => {
    expect(timestampText(Date.UTC(2026, 0, 1, 12, 1))).toBe('2026-01-01 12:01:00');
    expect(timestampText(Date.UTC(2026, 0, 1, 12, 1, 2, 345))).toBe('2026-01-01 12:01:02.345');
  });

  it('when a padded sequence number is unpadded, it keeps its digits', () => {
    expect(unpadSequence('000000123')).toBe('123');
    expect(unpadSequence('0000')).toBe('0');
  });
});

describe('unwrapArchived', () => {
  it('when a line is a clean/ archive record, it becomes the archived value keyed by the field', () => {
    const line = JSON.stringify({
      shardId: 's0',
      sequenceNumber: '12',
      eventTime: 5,
      value: { userId: 'u1', page: '/' },
    });
    expect(unwrapArchived({ data: line, partitionKey: 'record-0' }, 'userId', 0)).toEqual({
      data: '{"userId":"u1","page":"/"}',
      partitionKey: 'u1',
    });
  });

  it('when a line is anything else, it is passed on unchanged', () => {
    for (const data of ['{"userId":"u1"}', '{broken']) {
      expect(unwrapArchived({ data, partitionKey: 'k' }, 'userId', 3)).toEqual({ data, partitionKey: 'k' });
    }
  });
});
