import { NoSuchBucket } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../../../functions/adapters/aws';
import { readSavepoint, savepointLocation } from '../../../../localstack/start/savepoint';

/** Clients whose S3 answers every request as S3 does for a bucket that does not exist. */
function withoutBucket(): AwsClients {
  const send = async () => {
    throw new NoSuchBucket({ message: 'The specified bucket does not exist', $metadata: {} });
  };
  return { s3: { send } } as unknown as AwsClients;
}

describe('readSavepoint', () => {
  it('when the --from bucket does not exist, it says no savepoint is there, naming the bucket, in one line', async () => {
    await expect(
      readSavepoint(withoutBucket(), savepointLocation('nope-bucket', 'savepoints/page-clicks/t/')),
    ).rejects.toThrow(
      'No savepoint at s3://nope-bucket/savepoints/page-clicks/t/ (bucket nope-bucket does not exist): give the prefix "shardflow savepoint" printed',
    );
  });
});
