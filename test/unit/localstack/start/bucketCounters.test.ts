import { countSideOutputRecords } from '../../../../localstack/start/bucketCounters';

describe('countSideOutputRecords', () => {
  it('when an object holds JSON lines, it counts one record per non-empty line, parseable or not', () => {
    const text = [
      '{"reason":"INVALID_JSON"}',
      '',
      '{"key":"alice","sequenceNumber":"7"}',
      'not json',
      '',
    ].join('\n');
    expect(countSideOutputRecords(text)).toBe(3);
  });

  it('when the object is empty, it counts nothing', () => {
    expect(countSideOutputRecords('\n\n')).toBe(0);
  });
});
