import type { EpochMillis } from './types';

/**
 * Epoch milliseconds of an RFC 3339 / ISO-8601 date-time with an explicit zone, or `NaN` when `s` is not
 * exactly such a string.
 *
 * Accepts precisely what zod's `z.iso.datetime({ offset: true })` accepts (the page-activity schema's `ts`):
 * `YYYY-MM-DDTHH:mm:ss`, an optional fraction of one or more digits, then `Z` or `±HH:mm`; real calendar
 * days only (Feb 29 in Gregorian leap years), hours 00–23, minutes and seconds 00–59, offset hours 00–23.
 * Everything else (lower-case `t`/`z`, a space instead of `T`, missing seconds, `+HHmm`, leap second 60,
 * hour 24, surrounding whitespace, non-ASCII digits) is `NaN`. For accepted strings the result equals
 * `Date.parse(s)`, fractions beyond milliseconds truncated as V8 does, with one exception: a fraction of
 * ten or more digits that starts with a zero, where V8 (Node 20) mis-scales the digits (it reads
 * `.0100000000` as 100 ms); here every fraction is truncated to its first three digits (10 ms).
 *
 * Why not `Date.parse`: it was the most expensive single step of the engine's per-record path after JSON
 * (≈ 0.3× the bare base64 + JSON.parse loop in the engine bench), and it is lenient: it accepts many
 * formats (`'2026-01-01'`, `'Jan 1 2026'`, local times without a zone) whose meaning depends on the host's
 * time zone. A fixed-position character-code parser costs a small fraction of that and accepts only
 * what the schema already validated.
 *
 * @example parseIsoDateTime('2026-01-01T00:00:00.250Z') // 1767225600250
 * @example parseIsoDateTime('2026-02-29T00:00:00Z') // NaN (2026 is not a leap year)
 */
export function parseIsoDateTime(s: string): EpochMillis {
  if (s === lastText) return lastTime;
  if (typeof s !== 'string') return NaN;
  const time = parse(s);
  lastText = s;
  lastTime = time;
  return time;
}

/**
 * The last string read and its answer. The clean stage's schema fast path checks a date-time field with
 * this parser, and the pipeline's `eventTime` reads the same string right after: one comparison (the very
 * same string) instead of a second parse, ~0.07x of the engine bench's bare decode loop.
 */
let lastText: string | undefined;
let lastTime: EpochMillis = NaN;

/** {@link parseIsoDateTime} without the memo. */
function parse(s: string): EpochMillis {
  const n = s.length;
  // Shortest form: YYYY-MM-DDTHH:mm:ssZ (20 characters).
  if (n < 20) return NaN;
  // digit() is -10000 for a non-digit, which drives every field using it below zero.
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  if (
    s.charCodeAt(4) !== 45 || // '-'
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 || // 'T'
    s.charCodeAt(13) !== 58 || // ':'
    s.charCodeAt(16) !== 58 ||
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    (day > 28 && day > daysInMonth(year, month)) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  )
    return NaN;
  let i = 19;
  let millis = 0;
  let zone = s.charCodeAt(i);
  if (zone === 46) {
    // '.': one or more digits; the first three are milliseconds, the rest truncated (as V8's Date.parse).
    // Unrolled: a loop scaling by tenths paid a floating-point division per digit.
    const d0 = s.charCodeAt(20) - 48;
    if (d0 < 0 || d0 > 9) return NaN;
    millis = d0 * 100;
    i = 21;
    const d1 = s.charCodeAt(21) - 48;
    if (d1 >= 0 && d1 <= 9) {
      millis += d1 * 10;
      i = 22;
      const d2 = s.charCodeAt(22) - 48;
      if (d2 >= 0 && d2 <= 9) {
        millis += d2;
        for (i = 23; i < n; i++) {
          const d = s.charCodeAt(i) - 48;
          if (d < 0 || d > 9) break;
        }
      }
    }
    zone = s.charCodeAt(i);
  }
  let offsetMinutes = 0;
  if (zone === 90) {
    // 'Z'
    if (i + 1 !== n) return NaN;
  } else if (zone === 43 || zone === 45) {
    // '+' or '-', then HH:mm and the end.
    if (i + 6 !== n || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = digit(s, i + 1) * 10 + digit(s, i + 2);
    const om = digit(s, i + 4) * 10 + digit(s, i + 5);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMinutes = zone === 43 ? oh * 60 + om : -(oh * 60 + om);
  } else {
    return NaN;
  }
  return (
    daysOf(year, month, day) * 86_400_000 +
    hour * 3_600_000 +
    (minute - offsetMinutes) * 60_000 +
    second * 1_000 +
    millis
  );
}

/**
 * The last calendar day converted and its day number: records of a batch mostly share their date, and
 * {@link daysFromCivil}'s four divisions were a third of the parse (≈ 0.01x of the engine bench's bare
 * decode loop).
 */
let lastDay = -1;
let lastDays = 0;

/** {@link daysFromCivil} of a valid date, remembered for the next call. */
function daysOf(year: number, month: number, day: number): number {
  // Distinct for every valid date: month < 16, day < 32.
  const key = (year * 16 + month) * 32 + day;
  if (key !== lastDay) {
    lastDays = daysFromCivil(year, month, day);
    lastDay = key;
  }
  return lastDays;
}

/**
 * The ASCII digit at `i` as a number, else -10000: enough to make any field of up to four digits that
 * contains it negative, wherever it stands (the other three digits add at most 9990).
 */
function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -10_000;
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`), exact for every
 * four-digit year.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
