import { parseDuration } from '../../../functions/core/duration';
import { InvalidDurationError, PipelineDefinitionError } from '../../../functions/core/errors';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1.5s', 1_500],
    [0, 0],
    [250, 250],
  ] as const)('when given %p, it returns %p ms', (input, ms) => {
    expect(parseDuration(input, 'x')).toBe(ms);
  });

  it.each(['10 minutes', '-5m', '1w', '', 'm', '0.0001s'])(
    'when given %p, it throws naming the value',
    (input) => {
      expect(() => parseDuration(input, 'allowedLateness')).toThrow(InvalidDurationError);
      expect(() => parseDuration(input, 'allowedLateness')).toThrow(JSON.stringify(input));
    },
  );

  it('when given a negative or non-finite number, it throws a PipelineDefinitionError', () => {
    expect(() => parseDuration(-1, 'allowedLateness')).toThrow(PipelineDefinitionError);
    expect(() => parseDuration(Number.NaN, 'allowedLateness')).toThrow(/allowedLateness/);
    expect(() => parseDuration(Infinity, 'allowedLateness')).toThrow(/allowedLateness/);
  });
});
