import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { STATE_DIR_ENV } from '../../../../localstack/emulators/stateFile';
import { queryResults, type MirrorReport } from '../../../../localstack/query/queryResults';
import {
  acquireMirrorLock,
  mirrorDirectory,
  MIRRORS_DIR,
  pruneMirrors,
  STALE_LOCK_MS,
} from '../../../../localstack/query/queryMirror';
import { writeParquetFixture } from './parquetFixture';
import { stubS3 } from './s3Stub';

const KEY = (hour: number): string => `results/page_activity/dt=2026-01-01/hour=${hour}/emission-0.parquet`;
const SUM = 'SELECT sum(events) AS events, count(DISTINCT hour) AS hours FROM page_activity';

/** A pid that is not running (a child that has exited). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid ?? 2 ** 22 + 1;
}

describe('queryResults', () => {
  let dir: string;
  let objects: Record<string, Uint8Array | string>;
  let fixture: { twelve: Uint8Array; thirteen: Uint8Array; rewritten: Uint8Array };

  beforeAll(() => {
    const fixtures = mkdtempSync(join(tmpdir(), 'sf-query-fixture-'));
    const parquet = (events: number[]): Uint8Array => {
      const file = join(fixtures, `${events.join('-')}.parquet`);
      writeParquetFixture(file, [
        { name: 'page', type: 'STRING', data: events.map((_, i) => `/p${i}`) },
        { name: 'events', type: 'INT64', data: events },
      ]);
      return new Uint8Array(readFileSync(file));
    };
    const twelve = parquet([10, 3]);
    const thirteen = parquet([7]);
    const rewritten = parquet([7, 100]);
    rmSync(fixtures, { recursive: true, force: true });
    fixture = { twelve, thirteen, rewritten };
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-query-results-'));
    objects = { [KEY(12)]: fixture.twelve, [KEY(13)]: fixture.thirteen };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when asked again with the bucket unchanged, it reads no object again and answers the same', async () => {
    const stub = stubS3(objects);
    const reports: MirrorReport[] = [];
    const options = {
      s3: stub.s3,
      bucket: 'b',
      mirrorDir: join(dir, 'm'),
      onMirror: (r: MirrorReport) => reports.push(r),
    };
    const [first] = await queryResults(options, [SUM]);
    expect(first?.rows).toEqual([[20, 2]]);
    expect(stub.got.length).toBe(2);
    const [again] = await queryResults(options, [SUM]);
    expect(again?.rows).toEqual([[20, 2]]);
    expect(stub.got.length).toBe(2);
    expect(
      reports.map(({ mirror, fetched, reused, objects: n }) => ({ mirror, fetched, reused, n })),
    ).toEqual([
      { mirror: 'persistent', fetched: 2, reused: 0, n: 2 },
      { mirror: 'persistent', fetched: 0, reused: 2, n: 2 },
    ]);
    // The mirror stays; nothing but the lock-free mirror and its marker is left.
    expect(existsSync(join(dir, 'm', 'data', KEY(12)))).toBe(true);
    expect(existsSync(join(dir, 'm', 'lock'))).toBe(false);
  });

  it('when an object is rewritten under its key or deleted, the next answer follows the bucket', async () => {
    const stub = stubS3(objects);
    const options = { s3: stub.s3, bucket: 'b', mirrorDir: join(dir, 'm') };
    await queryResults(options, [SUM]);
    objects[KEY(13)] = fixture.rewritten;
    expect((await queryResults(options, [SUM]))[0]?.rows).toEqual([[120, 2]]);
    delete objects[KEY(12)];
    expect((await queryResults(options, [SUM]))[0]?.rows).toEqual([[107, 1]]);
  });

  it('when a new result table appears in a kept mirror, the next call can query it', async () => {
    // Listing slower than DuckDB opens the kept mirror: the early open misses the new table.
    const stub = stubS3(objects, 1000, { listDelayMs: 1_500 });
    const options = { s3: stub.s3, bucket: 'b', mirrorDir: join(dir, 'm') };
    await queryResults(options, [SUM]);
    objects['results/page_views/dt=2026-01-01/hour=12/emission-0.parquet'] = fixture.thirteen;
    const [answer] = await queryResults(options, ['SELECT sum(events) AS events FROM page_views']);
    expect(answer?.rows).toEqual([[7]]);
  });

  it('when the SQL names a side output, it mirrors that prefix too, and later calls that do not name it skip it', async () => {
    objects['rejected/clickstream/dt=2026-01-01/hour=12/s-1.jsonl'] = '{"reason":"INVALID_JSON"}\n';
    const stub = stubS3(objects);
    const options = { s3: stub.s3, bucket: 'b', mirrorDir: join(dir, 'm') };
    expect((await queryResults(options, ['SELECT count(*) AS n FROM rejected']))[0]?.rows).toEqual([[1]]);
    stub.listed.length = 0;
    await queryResults(options, [SUM]);
    expect(stub.listed).toEqual([expect.objectContaining({ Prefix: 'results/' })]);
  });

  it('with no mirror directory given, it keeps one per endpoint and bucket under the state directory', async () => {
    const saved = process.env[STATE_DIR_ENV];
    process.env[STATE_DIR_ENV] = join(dir, 'state');
    try {
      const stub = stubS3(objects);
      let report: MirrorReport | undefined;
      await queryResults({ s3: stub.s3, bucket: 'b', onMirror: (r) => (report = r) }, [SUM]);
      const expected = await mirrorDirectory(stub.s3, 'b', join(dir, 'state'));
      expect(report?.dir).toBe(join(expected, 'data'));
      expect(expected.startsWith(join(dir, 'state', MIRRORS_DIR, 'b-'))).toBe(true);
      expect(existsSync(join(expected, 'data', KEY(13)))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env[STATE_DIR_ENV];
      else process.env[STATE_DIR_ENV] = saved;
    }
  });

  it('with cache: false, it mirrors into a temporary directory and leaves nothing behind', async () => {
    const stub = stubS3(objects);
    let report: MirrorReport | undefined;
    const options = {
      s3: stub.s3,
      bucket: 'b',
      mirrorDir: join(dir, 'm'),
      cache: false,
      onMirror: (r: MirrorReport) => (report = r),
    };
    expect((await queryResults(options, [SUM]))[0]?.rows).toEqual([[20, 2]]);
    expect(report?.mirror).toBe('temporary');
    expect(existsSync(report?.dir ?? '')).toBe(false);
    expect(existsSync(join(dir, 'm'))).toBe(false);
  });

  it('when calls run at once on one mirror, they take turns: each answers, and the objects are read once', async () => {
    const stub = stubS3(objects);
    const reports: MirrorReport[] = [];
    const options = {
      s3: stub.s3,
      bucket: 'b',
      mirrorDir: join(dir, 'm'),
      onMirror: (r: MirrorReport) => reports.push(r),
    };
    const answers = await Promise.all([1, 2, 3].map(() => queryResults(options, [SUM])));
    expect(answers.map(([r]) => r?.rows)).toEqual([[[20, 2]], [[20, 2]], [[20, 2]]]);
    expect(stub.got.length).toBe(2);
    expect(reports.map((r) => r.mirror)).toEqual(['persistent', 'persistent', 'persistent']);
  });

  it('when a live call holds the mirror past the wait, it answers from a temporary mirror', async () => {
    const stub = stubS3(objects);
    const mirrorDir = join(dir, 'm');
    const held = await acquireMirrorLock(mirrorDir);
    try {
      let report: MirrorReport | undefined;
      const [answer] = await queryResults(
        { s3: stub.s3, bucket: 'b', mirrorDir, lock: { waitMs: 100 }, onMirror: (r) => (report = r) },
        [SUM],
      );
      expect(answer?.rows).toEqual([[20, 2]]);
      expect(report?.mirror).toBe('temporary');
      expect(existsSync(join(mirrorDir, 'lock'))).toBe(true);
    } finally {
      await held?.release();
    }
    expect(existsSync(join(mirrorDir, 'lock'))).toBe(false);
  });

  it('when the lock was left by a process that is gone, it takes the mirror over', async () => {
    const stub = stubS3(objects);
    const mirrorDir = join(dir, 'm');
    mkdirSync(mirrorDir, { recursive: true });
    writeFileSync(join(mirrorDir, 'lock'), JSON.stringify({ pid: deadPid(), host: hostname(), token: 'x' }));
    let report: MirrorReport | undefined;
    await queryResults(
      { s3: stub.s3, bucket: 'b', mirrorDir, lock: { waitMs: 2_000 }, onMirror: (r) => (report = r) },
      [SUM],
    );
    expect(report?.mirror).toBe('persistent');
    expect(existsSync(join(mirrorDir, 'lock'))).toBe(false);
  });
});

describe('mirror locks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-mirror-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when another host holds the lock and refreshes it, it waits; once it is not refreshed, it is stale', async () => {
    const lock = join(dir, 'lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: `not-${hostname()}`, token: 'x' }));
    expect(await acquireMirrorLock(dir, { waitMs: 100 })).toBeUndefined();
    const old = new Date(Date.now() - STALE_LOCK_MS - 1_000);
    utimesSync(lock, old, old);
    const mine = await acquireMirrorLock(dir, { waitMs: 100 });
    expect(mine).toBeDefined();
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await mine?.release();
  });

  it('when a live process on this host holds the lock, it is never taken for stale, however old', async () => {
    const lock = join(dir, 'lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'x' }));
    const old = new Date(Date.now() - 10 * STALE_LOCK_MS);
    utimesSync(lock, old, old);
    expect(await acquireMirrorLock(dir, { waitMs: 100 })).toBeUndefined();
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ token: 'x' });
  });

  it('when a lock is released after another caller broke it, the new holder keeps its lock', async () => {
    const first = await acquireMirrorLock(dir);
    // Someone broke it (e.g. taken for stale) and took it.
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), token: 'other' }));
    await first?.release();
    expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toMatchObject({ token: 'other' });
  });

  it('keeps the most recently used mirrors and removes the rest, except one in use', async () => {
    const root = join(dir, MIRRORS_DIR);
    const now = Date.now();
    const names = Array.from({ length: 12 }, (_, i) => `b-${String(i).padStart(2, '0')}`);
    names.forEach((name, i) => {
      mkdirSync(join(root, name, 'data'), { recursive: true });
      writeFileSync(join(root, name, 'last-used'), '');
      const at = new Date(now - i * 60_000);
      utimesSync(join(root, name, 'last-used'), at, at);
    });
    // The oldest is in use by a live process: kept.
    writeFileSync(
      join(root, 'b-11', 'lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), token: 'x' }),
    );
    await pruneMirrors(join(root, 'b-00'), root);
    expect(readdirSync(root).sort()).toEqual([...names.slice(0, 9), 'b-11']);
  });

  it('keys the mirror by endpoint and bucket', async () => {
    const at = (endpoint: string): S3Client => new S3Client({ region: 'us-east-1', endpoint });
    const a = await mirrorDirectory(at('http://127.0.0.1:4566'), 'b', dir);
    expect(await mirrorDirectory(at('http://127.0.0.1:4566'), 'b', dir)).toBe(a);
    expect(await mirrorDirectory(at('http://127.0.0.1:4567'), 'b', dir)).not.toBe(a);
    expect(await mirrorDirectory(at('http://127.0.0.1:4566'), 'c', dir)).not.toBe(a);
    expect(await mirrorDirectory(new S3Client({ region: 'eu-west-1' }), 'b', dir)).not.toBe(a);
  });
});
