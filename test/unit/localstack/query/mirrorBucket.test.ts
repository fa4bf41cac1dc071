import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { QueryError } from '../../../../localstack/query/errors';
import { MANIFEST_DIR, mirrorBucket } from '../../../../localstack/query/mirrorBucket';
import { stubS3, withSend } from './s3Stub';

/** Every file under `dir` (relative, `/`-separated), the manifests left out. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((name) => name.split(sep).join('/'))
    .filter((name) => !name.startsWith(MANIFEST_DIR) && statSync(join(dir, name)).isFile())
    .sort();
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
    expect(copied).toEqual({ objects: 3, bytes: 6, fetched: 3, reused: 0, deleted: 0 });
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
  describe('on a mirror kept from an earlier call', () => {
    const A = 'results/t/dt=2026-01-01/hour=12/a.parquet';
    const B = 'results/t/dt=2026-01-01/hour=13/b.parquet';
    const C = 'results/u/dt=2026-01-01/hour=12/c.parquet';
    let objects: Record<string, string>;
    beforeEach(() => {
      objects = { [A]: 'A1', [B]: 'B1', [C]: 'C1' };
    });

    it('when the bucket has not changed, it reads no object again', async () => {
      const stub = stubS3(objects);
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      stub.got.length = 0;
      const again = await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got).toEqual([]);
      expect(again).toEqual({ objects: 3, bytes: 0, fetched: 0, reused: 3, deleted: 0 });
      expect(filesUnder(dir)).toEqual([A, B, C]);
      expect(readFileSync(join(dir, B), 'utf8')).toBe('B1');
    });

    it('when an object is rewritten under the same key (new ETag, same size), it reads that one again', async () => {
      const stub = stubS3(objects);
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      stub.got.length = 0;
      objects[B] = 'B2';
      const again = await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got).toEqual([B]);
      expect(again).toMatchObject({ objects: 3, fetched: 1, reused: 2, deleted: 0 });
      expect(readFileSync(join(dir, B), 'utf8')).toBe('B2');
    });

    it('when objects are added, it reads only those', async () => {
      const stub = stubS3(objects);
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      stub.got.length = 0;
      const D = 'results/u/dt=2026-01-01/hour=14/d.parquet';
      objects[D] = 'D';
      const again = await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got).toEqual([D]);
      expect(again).toMatchObject({ objects: 4, fetched: 1, reused: 3 });
    });

    it('when an object is deleted from the bucket, its file (and emptied partition) disappears', async () => {
      const stub = stubS3(objects);
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      delete objects[B];
      const again = await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(again).toMatchObject({ objects: 2, fetched: 0, reused: 2, deleted: 1 });
      expect(filesUnder(dir)).toEqual([A, C]);
      expect(existsSync(join(dir, 'results/t/dt=2026-01-01/hour=13'))).toBe(false);
      expect(existsSync(join(dir, 'results/t/dt=2026-01-01/hour=12'))).toBe(true);
    });

    it('when reading an object fails part way, no file is left that the next call trusts', async () => {
      const broken = stubS3(objects, 2, { failRead: (key) => key === B });
      const error = await mirrorBucket({ s3: broken.s3, bucket: 'b', prefix: 'results/', dir }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(QueryError);
      expect((error as Error).message).toBe(`Cannot read s3://b/${B}: ECONNRESET: aborted`);
      // Neither the file nor a temporary file of it.
      expect(filesUnder(dir)).toEqual([A, C]);
      const stub = stubS3(objects);
      const again = await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got).toEqual([B]);
      expect(again).toMatchObject({ fetched: 1, reused: 2 });
      expect(readFileSync(join(dir, B), 'utf8')).toBe('B1');
    });

    it('when the rewrite of a mirrored object fails to download, the next call does not trust the old file', async () => {
      const stub = stubS3(objects);
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      objects[B] = 'B2';
      const broken = stubS3(objects, 2, { failRead: (key) => key === B });
      await expect(mirrorBucket({ s3: broken.s3, bucket: 'b', prefix: 'results/', dir })).rejects.toThrow(
        QueryError,
      );
      const after = stubS3(objects);
      await mirrorBucket({ s3: after.s3, bucket: 'b', prefix: 'results/', dir });
      expect(after.got).toEqual([B]);
      expect(readFileSync(join(dir, B), 'utf8')).toBe('B2');
    });

    it('when a mirrored file was cut short (a write killed part way), it is read again, not trusted', async () => {
      const stub = stubS3({ [A]: 'AAAAAAAA' });
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      writeFileSync(join(dir, A), 'AAA');
      stub.got.length = 0;
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got).toEqual([A]);
      expect(readFileSync(join(dir, A), 'utf8')).toBe('AAAAAAAA');
    });

    it('when a file is there that no manifest names, it is not trusted: read again, or removed when its object is gone', async () => {
      // As left by a call killed after renaming a download into place, before writing its manifest.
      mkdirSync(join(dir, 'results/t/dt=2026-01-01/hour=12'), { recursive: true });
      writeFileSync(join(dir, A), 'A1');
      writeFileSync(join(dir, 'results/t/dt=2026-01-01/hour=12/gone.parquet'), 'old');
      const stub = stubS3(objects);
      const first = await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got.sort()).toEqual([A, B, C]);
      expect(first).toMatchObject({ fetched: 3, reused: 0, deleted: 1 });
      expect(filesUnder(dir)).toEqual([A, B, C]);
    });

    it('when the listing gives no ETag, it reads every object each time (nothing to compare)', async () => {
      const stub = stubS3(objects, 2, { bare: true });
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      stub.got.length = 0;
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got.sort()).toEqual([A, B, C]);
    });

    it('when the manifest is damaged, it reads every object again', async () => {
      const stub = stubS3(objects);
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      for (const name of readdirSync(join(dir, MANIFEST_DIR)))
        writeFileSync(join(dir, MANIFEST_DIR, name), '{"objects":');
      stub.got.length = 0;
      await mirrorBucket({ s3: stub.s3, bucket: 'b', prefix: 'results/', dir });
      expect(stub.got.sort()).toEqual([A, B, C]);
    });
  });

  it('when a key would land among the manifests, it refuses it', async () => {
    const { s3 } = stubS3({ [`${MANIFEST_DIR}/x.parquet`]: 'x' });
    await expect(mirrorBucket({ s3, bucket: 'b', prefix: '', dir })).rejects.toThrow(
      `Refusing object key outside the mirror: ${MANIFEST_DIR}/x.parquet`,
    );
  });
});
