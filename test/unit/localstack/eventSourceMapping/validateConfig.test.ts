import { resolveMappingConfig } from '../../../../localstack/eventSourceMapping/validateConfig';
import { MappingValidationError } from '../../../../localstack/eventSourceMapping/errors';

const base = {
  uuid: 'm',
  functionName: 'f',
  eventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
  startingPosition: 'LATEST' as const,
};

describe('resolveMappingConfig', () => {
  it('when only required settings are given, it fills Lambda defaults', () => {
    expect(resolveMappingConfig(base)).toMatchObject({
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      parallelizationFactor: 1,
      bisectBatchOnFunctionError: false,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      reportBatchItemFailures: false,
      enabled: true,
    });
  });

  it('when several settings are out of range, it reports every one with the given value', () => {
    expect(() =>
      resolveMappingConfig({
        ...base,
        batchSize: 0,
        parallelizationFactor: 11,
        maximumRetryAttempts: 10_001,
        maximumRecordAgeInSeconds: 59,
      }),
    ).toThrow(
      new MappingValidationError(
        'Invalid event source mapping m:\n' +
          '  BatchSize must be an integer between 1 and 10000 inclusive (given 0)\n' +
          '  ParallelizationFactor must be an integer between 1 and 10 inclusive (given 11)\n' +
          '  MaximumRetryAttempts must be -1 or an integer between 0 and 10000 inclusive (given 10001)\n' +
          '  MaximumRecordAgeInSeconds must be -1 or an integer between 60 and 604800 inclusive (given 59)',
      ),
    );
  });

  it('when TumblingWindowInSeconds is above 900, it rejects the mapping', () => {
    expect(() => resolveMappingConfig({ ...base, tumblingWindowInSeconds: 901 })).toThrow(
      'TumblingWindowInSeconds must be an integer between 0 and 900 inclusive (given 901)',
    );
  });

  it('when AT_TIMESTAMP has no timestamp, it rejects the mapping', () => {
    expect(() => resolveMappingConfig({ ...base, startingPosition: 'AT_TIMESTAMP' })).toThrow(
      'StartingPositionTimestamp is required',
    );
  });

  it('when ReportBatchItemFailures is listed, it enables partial batch responses', () => {
    expect(
      resolveMappingConfig({ ...base, functionResponseTypes: ['ReportBatchItemFailures'] })
        .reportBatchItemFailures,
    ).toBe(true);
  });
});
