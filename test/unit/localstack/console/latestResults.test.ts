import {
  LatestResults,
  newestResultObject,
  toCells,
  windowOfKey,
} from '../../../../localstack/console/latestResults';
import { stubS3 } from '../query/s3Stub';

const key = (start: number, end: number, hour = '12') =>
  `results/t/dt=2026-01-01/hour=${hour}/${start}-${end}.parquet`;

describe('newestResultObject', () => {
  it('when windows are named by their bounds, the newest is the one that ends last, whatever the key order', () => {
    const objects = [key(120, 180, '13'), key(60, 120, '12'), key(180, 240, '09'), 'results/t/_tmp.json'].map(
      (k) => ({ key: k, etag: k, lastModified: 0 }),
    );
    expect(newestResultObject(objects)?.key).toBe(key(180, 240, '09'));
    expect(windowOfKey(key(180, 240))).toEqual({ start: 180, end: 240 });
    expect(windowOfKey('results/t/dt=2026-01-01/hour=12/pass-3.parquet')).toBeNull();
  });

  it('when names carry no window, the newest is the last written', () => {
    const objects = [
      { key: 'results/t/x/a.parquet', etag: '', lastModified: 2 },
      { key: 'results/t/x/b.parquet', etag: '', lastModified: 1 },
    ];
    expect(newestResultObject(objects)?.key).toBe('results/t/x/a.parquet');
    expect(newestResultObject([])).toBeUndefined();
  });
});

describe('toCells', () => {
  it('when rows hold Parquet values, cells are JSON-safe (int64 as numbers, timestamps as ISO text)', () => {
    const rows = [
      { page: '/a', window_start: new Date(0), events: 3n, big: 2n ** 60n, avg: 1.5, ok: true, none: null },
      { page: '/b', window_start: new Date(60_000), events: 1n, big: 1n, avg: null, ok: false, none: null },
    ];
    expect(toCells(rows, 1, ['window_start'])).toEqual({
      columns: ['page', 'events', 'big', 'avg', 'ok', 'none'],
      rows: [['/a', 3, '1152921504606846976', 1.5, true, null]],
    });
  });
});

describe('LatestResults', () => {
  it('when polled, it decodes the newest window once and again only when a newer one lands', async () => {
    const objects: Record<string, string> = { [key(0, 60)]: 'first' };
    const stub = stubS3(objects);
    const decoded: string[] = [];
    const reader = new LatestResults(stub.s3, 'bucket', 't', {
      maxRows: 1,
      decode: async (bytes) => {
        const text = new TextDecoder().decode(bytes);
        decoded.push(text);
        return [
          { page: text, window_start: new Date(0), window_end: new Date(60_000), n: 1n },
          { page: 'z', window_start: new Date(0), window_end: new Date(60_000), n: 2n },
        ];
      },
    });
    expect(await reader.read()).toEqual({
      table: 't',
      windowsEmitted: 1,
      latest: {
        objectKey: key(0, 60),
        window: { start: 0, end: 60 },
        columns: ['page', 'n'],
        rows: [['first', 1]],
        totalRows: 2,
      },
    });
    await reader.read();
    objects[key(60, 120)] = 'second';
    expect((await reader.read()).latest?.rows).toEqual([['second', 1]]);
    expect(decoded).toEqual(['first', 'second']);
  });

  it('when the table has no results yet, there is nothing to show', async () => {
    const reader = new LatestResults(stubS3({}).s3, 'bucket', 't');
    expect(await reader.read()).toEqual({ table: 't', windowsEmitted: 0, latest: null });
  });
});
