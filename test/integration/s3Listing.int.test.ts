/**
 * A listing longer than one page on the embedded S3 emulator. s3rver encrypts ListObjectsV2 continuation
 * tokens with DES, which Node.js's OpenSSL 3 refuses unless the legacy provider is on; the emulator then
 * answered every truncated listing with InternalError, which is how the 100,000-event load run failed while
 * reading back its ~2,000 result objects.
 */
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../../functions/adapters/aws';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/emulators';
import { startS3Emulator } from '../../localstack/emulators/s3Emulator';
import type { RunningEmulator } from '../../localstack/emulators/types';

const BUCKET = 'listing';
const KEYS = Array.from({ length: 7 }, (_, i) => `results/page/part-${String(i).padStart(2, '0')}.json`);

describe('S3 emulator: listings longer than one page', () => {
  let s3: RunningEmulator;
  let client: S3Client;

  beforeAll(async () => {
    s3 = await startS3Emulator();
    client = s3Client({
      endpoint: s3.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const key of KEYS) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{}' }));
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  it('pages through ListObjectsV2 with continuation tokens', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: BUCKET,
          Prefix: 'results/',
          MaxKeys: 3,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      pages += 1;
      seen.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(KEYS);
  });

  it('lists more than 1,000 keys through S3ObjectStore (the default page size)', async () => {
    const extra = Array.from({ length: 1_001 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < extra.length; i += 50) {
      await Promise.all(
        extra
          .slice(i, i + 50)
          .map((key) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '' }))),
      );
    }
    const store = new S3ObjectStore({ bucket: BUCKET, client });
    expect(await store.listKeys('many/')).toEqual(extra);
    expect(store.requests).toBe(2);
  }, 120_000);
});
