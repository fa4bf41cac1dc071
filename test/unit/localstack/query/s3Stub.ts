/** An S3 client whose bucket is a record in memory, for the mirror and query tests. */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** A real client (the SDK paginator checks the class) whose `send` answers from the test. */
export function withSend(
  send: (command: ListObjectsV2Command | GetObjectCommand) => Promise<object>,
): S3Client {
  const s3 = new S3Client({ region: 'us-east-1' });
  s3.send = send as unknown as S3Client['send'];
  return s3;
}

const etagOf = (body: string | Uint8Array): string => `"${createHash('md5').update(body).digest('hex')}"`;

const bytes = (body: string | Uint8Array): Uint8Array =>
  typeof body === 'string' ? new TextEncoder().encode(body) : body;

export interface Stub {
  readonly s3: S3Client;
  readonly listed: object[];
  /** Keys read with GetObject, in order. */
  readonly got: string[];
}

/**
 * A bucket in memory: `objects` may be changed between calls. Listings carry ETag (MD5 of the body, as S3
 * and s3rver give it) and Size unless `bare`; `failRead(key)` makes reading a body fail part way.
 */
export function stubS3(
  objects: Record<string, string | Uint8Array>,
  pageSize = 2,
  options: {
    readonly bare?: boolean;
    readonly failRead?: (key: string) => boolean;
    /** Each list call answers after this long (a slow bucket). */
    readonly listDelayMs?: number;
  } = {},
): Stub {
  const listed: object[] = [];
  const got: string[] = [];
  const s3 = withSend(async (command: ListObjectsV2Command | GetObjectCommand): Promise<object> => {
    if (command instanceof ListObjectsV2Command) {
      listed.push(command.input);
      if (options.listDelayMs !== undefined) await new Promise((r) => setTimeout(r, options.listDelayMs));
      const keys = Object.keys(objects)
        .sort()
        .filter((k) => k.startsWith(command.input.Prefix ?? ''));
      const start = Number(command.input.ContinuationToken ?? 0);
      const page = keys.slice(start, start + pageSize);
      const more = start + pageSize < keys.length;
      return {
        Contents: page.map((Key) =>
          options.bare === true
            ? { Key }
            : { Key, ETag: etagOf(objects[Key] ?? ''), Size: bytes(objects[Key] ?? '').byteLength },
        ),
        ...(more ? { NextContinuationToken: String(start + pageSize), IsTruncated: true } : {}),
      };
    }
    const key = command.input.Key ?? '';
    got.push(key);
    const body = objects[key];
    if (body === undefined)
      throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    return {
      ETag: etagOf(body),
      Body: {
        transformToByteArray: async () => {
          if (options.failRead?.(key) === true)
            throw Object.assign(new Error('aborted'), { name: 'ECONNRESET' });
          return bytes(body);
        },
        transformToString: async () => new TextDecoder().decode(bytes(body)),
      },
    };
  });
  return { s3, listed, got };
}
