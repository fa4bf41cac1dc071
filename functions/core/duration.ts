import { InvalidDurationError } from './errors';

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'90s'`, `'10m'`, `'1h'`, `'1d'`. */
export type Duration = number | `${number}${DurationUnit}`;
/** Units accepted in duration strings. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Readonly<Record<DurationUnit, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parses a duration into whole milliseconds.
 *
 * @example parseDuration('90s') // 90000
 * @param what - names the setting in the error message, e.g. `allowedLateness`.
 * @throws InvalidDurationError naming the bad value when it is not a non-negative finite duration of whole ms.
 */
export function parseDuration(value: Duration | string, what: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value);
    if (match === null) {
      throw new InvalidDurationError(
        `${what} must be a duration such as '500ms', '90s', '10m', '1h', '1d' or a number of ms (given ${JSON.stringify(value)})`,
      );
    }
    ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  } else {
    throw new InvalidDurationError(
      `${what} must be a duration string or a number of ms (given ${String(value)})`,
    );
  }
  if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(ms)) {
    throw new InvalidDurationError(
      `${what} must be a non-negative whole number of milliseconds (given ${JSON.stringify(value)})`,
    );
  }
  return ms;
}
