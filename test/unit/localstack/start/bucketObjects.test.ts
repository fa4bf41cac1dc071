import { listObjects, SummarizedObjects } from '../../../../localstack/start/bucketObjects';
import { BucketCounter } from '../../../../localstack/start/bucketCounters';
import { rejectedResultKey } from '../../../../functions/core/state/paths';
import { stubS3 } from '../query/s3Stub';

describe('SummarizedObjects', () => {
  it('when read again, it fetches only objects that are new or changed, and forgets removed ones', async () => {
    const objects: Record<string, string> = {
      'rejected/a.jsonl': '1\n2\n',
      'rejected/b.jsonl': '3\n',
      'late/c.jsonl': 'x\n',
    };
    const stub = stubS3(objects);
    const reader = new SummarizedObjects(
      stub.s3,
      'bucket',
      'rejected/',
      (text, key) => `${key}:${text.length}`,
    );
    expect((await reader.read()).map((o) => o.summary)).toEqual(['rejected/a.jsonl:4', 'rejected/b.jsonl:2']);
    expect(stub.got).toEqual(['rejected/a.jsonl', 'rejected/b.jsonl']);

    objects['rejected/b.jsonl'] = '3\n4\n';
    objects['rejected/d.jsonl'] = '5\n';
    delete objects['rejected/a.jsonl'];
    const again = await reader.read();
    expect(again.map((o) => o.summary)).toEqual(['rejected/b.jsonl:4', 'rejected/d.jsonl:2']);
    expect(stub.got).toEqual([
      'rejected/a.jsonl',
      'rejected/b.jsonl',
      'rejected/b.jsonl',
      'rejected/d.jsonl',
    ]);
  });

  it('when a prefix spans several listing pages, every object is listed in key order', async () => {
    const stub = stubS3({ 'p/1': '', 'p/2': '', 'p/3': '', 'q/4': '' }, 2);
    expect((await listObjects(stub.s3, 'bucket', 'p/')).map((o) => o.key)).toEqual(['p/1', 'p/2', 'p/3']);
  });
});

describe('BucketCounter', () => {
  it('when polled, it counts result objects and side-output records, reading each side-output version once', async () => {
    const objects: Record<string, string> = {
      'results/t/dt=2026-01-01/hour=12/1-2.parquet': 'PAR1',
      'rejected/s/a.jsonl': '{}\n{}\n',
      'late/t/b.jsonl': '{}\n',
      // A result row dead-lettered for its size is no rejected input record: not counted, not even read.
      [rejectedResultKey('t', Date.UTC(2026, 0, 1, 12), 't/1/k')]: '{}\n',
    };
    const stub = stubS3(objects);
    const counter = new BucketCounter(stub.s3, 'bucket');
    expect(await counter.counts()).toEqual({ windowsEmitted: 1, rejected: 2, late: 1 });
    objects['late/t/c.jsonl'] = '{}\n{}\n';
    expect(await counter.counts()).toEqual({ windowsEmitted: 1, rejected: 2, late: 3 });
    expect(stub.got).toEqual(['rejected/s/a.jsonl', 'late/t/b.jsonl', 'late/t/c.jsonl']);
  });
});
