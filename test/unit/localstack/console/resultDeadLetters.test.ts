import { countResultDeadLetters } from '../../../../localstack/console/consoleSources';
import { rejectedResultKey } from '../../../../functions/core/state/paths';

describe('counting result rows dead-lettered for their size (console)', () => {
  it('when an object under rejected/<table>/ is a result dead letter, its lines count; a batch object of records does not', () => {
    const key = rejectedResultKey('page_minutes', Date.UTC(2026, 0, 1, 12), 'page_minutes/1/a');
    expect(countResultDeadLetters('{"reason":"OVERSIZE_RECORD"}\n', key)).toBe(1);
    expect(
      countResultDeadLetters(
        '{"reason":"SCHEMA_VIOLATION"}\n{"reason":"SCHEMA_VIOLATION"}\n',
        'rejected/page_minutes/dt=2026-01-01/hour=12/shardId-000000000000-0001-0002.jsonl',
      ),
    ).toBe(0);
  });
});
