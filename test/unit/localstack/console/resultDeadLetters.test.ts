import { countResultDeadLetters, ResultDeadLetterCounter } from '../../../../localstack/start/bucketCounters';
import { rejectedResultKey } from '../../../../functions/core/state/paths';
import { stubS3 } from '../query/s3Stub';

const HOUR = Date.UTC(2026, 0, 1, 12);

describe('counting result rows dead-lettered for their size (console, run summary)', () => {
  it('when an object under rejected-results/<table>/ is a result dead letter, its lines count; any other object does not', () => {
    const key = rejectedResultKey('page_minutes', HOUR, 'page_minutes/1/a');
    expect(key).toMatch(
      /^rejected-results\/page_minutes\/dt=2026-01-01\/hour=12\/result-[0-9a-f]{64}\.jsonl$/,
    );
    expect(countResultDeadLetters('{"reason":"OVERSIZE_RECORD"}\n', key)).toBe(1);
    expect(
      countResultDeadLetters(
        '{"reason":"SCHEMA_VIOLATION"}\n{"reason":"SCHEMA_VIOLATION"}\n',
        'rejected/page_minutes/dt=2026-01-01/hour=12/shardId-000000000000-0001-0002.jsonl',
      ),
    ).toBe(0);
  });

  it("when a bucket holds a table's result dead letters and rejected records of a stream of the same name, only the letters count", async () => {
    const objects: Record<string, string> = {
      [rejectedResultKey('page_minutes', HOUR, 'page_minutes/1/a')]: '{"reason":"OVERSIZE_RECORD"}\n',
      [rejectedResultKey('page_minutes', HOUR, 'page_minutes/1/b')]: '{"reason":"OVERSIZE_RECORD"}\n',
      [rejectedResultKey('page_hours', HOUR, 'page_hours/1/a')]: '{"reason":"OVERSIZE_RECORD"}\n',
      'rejected/page_minutes/dt=2026-01-01/hour=12/shardId-000000000000-0001-0002.jsonl': '{}\n{}\n',
    };
    const stub = stubS3(objects);
    const counter = new ResultDeadLetterCounter(stub.s3, 'bucket', 'page_minutes');
    expect(counter.prefix).toBe('rejected-results/page_minutes/');
    expect(await counter.count()).toBe(2);
    objects[rejectedResultKey('page_minutes', HOUR, 'page_minutes/1/c')] = '{"reason":"OVERSIZE_RECORD"}\n';
    expect(await counter.count()).toBe(3);
  });
});
