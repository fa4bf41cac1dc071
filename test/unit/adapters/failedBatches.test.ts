import type { S3Client } from '@aws-sdk/client-s3';
import { countObjects } from '../../../functions/adapters/failedBatches';

/** An S3 client whose ListObjectsV2 answers `pages` in turn, recording each input. */
function listing(pages: { KeyCount: number; IsTruncated: boolean; NextContinuationToken?: string }[]) {
  const inputs: Record<string, unknown>[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      return pages[inputs.length - 1];
    },
  } as unknown as S3Client;
  return { client, inputs };
}

describe('countObjects', () => {
  it('when the listing spans pages, it adds them up, following the continuation token under the prefix', async () => {
    const { client, inputs } = listing([
      { KeyCount: 1000, IsTruncated: true, NextContinuationToken: 't1' },
      { KeyCount: 3, IsTruncated: false },
    ]);
    await expect(countObjects(client, 'b', 'aws/lambda/u/')).resolves.toBe(1003);
    expect(inputs).toEqual([
      { Bucket: 'b', Prefix: 'aws/lambda/u/' },
      { Bucket: 'b', Prefix: 'aws/lambda/u/', ContinuationToken: 't1' },
    ]);
  });

  it('when there are more than ten pages, it stops at ten (the count is a lower bound)', async () => {
    const { client, inputs } = listing(
      Array.from({ length: 20 }, (_, i) => ({
        KeyCount: 1000,
        IsTruncated: true,
        NextContinuationToken: `t${i}`,
      })),
    );
    await expect(countObjects(client, 'b', 'p/')).resolves.toBe(10_000);
    expect(inputs).toHaveLength(10);
  });
});
