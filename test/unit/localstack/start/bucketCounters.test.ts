import { countSideOutputRecords } from '../../../../localstack/start/bucketCounters';

describe('countSideOutputRecords', () => {
  it('when an object holds JSON lines, it counts one record per line and a late partial as its records', () => {
    const text = [
      '{"reason":"INVALID_JSON"}',
      '',
      '{"kind":"late-partial","records":4}',
      'not json',
      '',
    ].join('\n');
    expect(countSideOutputRecords(text)).toBe(1 + 4 + 1);
  });

  it('when the object is empty, it counts nothing', () => {
    expect(countSideOutputRecords('\n\n')).toBe(0);
  });
});
