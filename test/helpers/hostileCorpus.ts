/**
 * The hostile input corpus (issue 7): every kind of bad record a producer can send, with the exact outcome
 * the pipeline owes it — dead-lettered with a specific `REJECT_REASONS` reason, or (for duplicates and
 * prototype keys inside an otherwise valid event) counted exactly once. Valid records are interleaved
 * around every hostile one so a test can prove that nothing around a bad record is lost.
 *
 * Two pipelines: the shipped `page-activity` one (the real operator handler), and `hostile-operators`, the
 * same events through user functions that throw, return `undefined`/non-booleans, or extract absent event
 * times, which `page-activity` has no user function for.
 */
import * as zm from 'zod/mini';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { count, pipeline, tumbling } from '../../functions/core/dsl';
import { REJECT_REASONS, type RejectReason } from '../../functions/core/types';
import { PageEvent } from '../../functions/pipelines/pageActivity';
import { clickEvent, kplAggregate, type ClickEvent } from './records';

/** Pages that make the `hostile-operators` user functions misbehave. */
export const HOSTILE_PAGES = {
  MAP_THROWS: '/hostile/map-throws',
  MAP_RETURNS_UNDEFINED: '/hostile/map-undefined',
  FILTER_RETURNS_STRING: '/hostile/filter-string',
  EVENT_TIME_THROWS: '/hostile/event-time-throws',
  DEDUPE_RETURNS_NUMBER: '/hostile/dedupe-number',
} as const;

const HostileEvent = zm.extend(PageEvent, {
  page: z.string().min(1).max(4096),
  // Optional and unchecked on purpose: the event-time function, not the schema, meets the bad value.
  ts: z.string().max(64).optional(),
});
type HostileEvent = z.infer<typeof HostileEvent>;

/** `page-activity`'s events through misbehaving user functions (counts per page per minute). */
export const hostileOperators = pipeline('hostile-operators')
  .source({ stream: 'hostile', shards: 1 })
  .clean({
    schema: HostileEvent,
    eventTime: (e: HostileEvent) => {
      if (e.page === HOSTILE_PAGES.EVENT_TIME_THROWS) throw new Error('event time exploded');
      return (e.ts === undefined ? undefined : Date.parse(e.ts)) as number;
    },
    dedupeBy: (e: HostileEvent) =>
      e.page === HOSTILE_PAGES.DEDUPE_RETURNS_NUMBER ? (42 as unknown as string) : e.eventId,
  })
  .map((e) => {
    if (e.page === HOSTILE_PAGES.MAP_THROWS) throw new TypeError('user map exploded');
    return e.page === HOSTILE_PAGES.MAP_RETURNS_UNDEFINED ? (undefined as unknown as HostileEvent) : e;
  }, 'userMap')
  .filter(
    (e) => (e.page === HOSTILE_PAGES.FILTER_RETURNS_STRING ? ('yes' as unknown as boolean) : true),
    'userFilter',
  )
  .keyBy((e) => e.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({ events: count() })
  .sink({ table: 'hostile_operators_minutely' });

/** Which pipeline a kind is aimed at. */
export type HostileTarget = 'page-activity' | 'hostile-operators';

/**
 * How a kind can reach the handler: `kinesis` payloads can be put on a stream; `event` payloads exist only
 * in a hand-made Lambda event (bad base64, > 1 MiB), since Kinesis itself base64-encodes and caps records.
 */
export type HostileChannel = 'kinesis' | 'event';

/** What the pipeline owes a kind. */
export type HostileOutcome =
  | { readonly rejected: RejectReason }
  /** Processed: counted exactly once on `page` (a duplicate adds nothing to the original's count). */
  | { readonly counted: 'once' | 'duplicate'; readonly page: string };

export interface HostileKind {
  readonly name: string;
  readonly target: HostileTarget;
  readonly channel: HostileChannel;
  /** The payload as base64, as in a Kinesis event. */
  readonly data: string;
  readonly outcome: HostileOutcome;
}

/** Times the corpus is built around. */
export interface CorpusTimes {
  /** Event time of the first valid record (a minute boundary keeps all valid records in one window). */
  readonly base: number;
  /** Processing time ≈ arrival time (future event times are judged against arrival). */
  readonly now: number;
}

const b64 = (bytes: Buffer | string): string =>
  (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64');
const json = (value: unknown): string => b64(JSON.stringify(value));

/** Valid event `n` of the interleaved stream: pages `/ok/0..2`, all in the window starting at `base`. */
export function validEvent(n: number, times: CorpusTimes): ClickEvent {
  return clickEvent(1_000_000 + n, times.base + (n % 500) * 100, { page: `/ok/${n % 3}` });
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** The corpus: ≥ 30 kinds. `duplicateOf` is the valid event a duplicate kind repeats. */
export function hostileCorpus(times: CorpusTimes, duplicateOf: ClickEvent): HostileKind[] {
  const ok = (n: number, overrides: Partial<ClickEvent> = {}): ClickEvent =>
    clickEvent(2_000_000 + n, times.base + 1_000 + n, { page: '/hostile/base', ...overrides });
  const valid = JSON.stringify(ok(0));
  const pa = (
    name: string,
    data: string,
    outcome: HostileOutcome,
    channel: HostileChannel = 'kinesis',
  ): HostileKind => ({ name, target: 'page-activity', channel, data, outcome });
  const op = (name: string, data: string, outcome: HostileOutcome): HostileKind => ({
    name,
    target: 'hostile-operators',
    channel: 'kinesis',
    data,
    outcome,
  });
  const R = REJECT_REASONS;
  const goodBody = Buffer.from(valid, 'utf8');
  const kpl = Buffer.from(kplAggregate([{ partitionKey: 'k', data: valid }]), 'base64');
  const badMd5 = Buffer.from(kpl);
  badMd5[badMd5.length - 1] = (badMd5[badMd5.length - 1] ?? 0) ^ 0xff;
  const md5 = (body: Buffer): Buffer => createHash('md5').update(body).digest();
  const truncatedBody = Buffer.from([0x1a, 0x7f, 0x08]); // field 3, length 127, only 1 byte present
  const truncatedKpl = Buffer.concat([
    Buffer.from([0xf3, 0x89, 0x9a, 0xc2]),
    truncatedBody,
    md5(truncatedBody),
  ]);
  const outOfRangeKeyBody = Buffer.from([0x0a, 0x01, 0x6b, 0x1a, 0x04, 0x08, 0x05, 0x1a, 0x00]); // key index 5 of 1 key
  const outOfRangeKpl = Buffer.concat([
    Buffer.from([0xf3, 0x89, 0x9a, 0xc2]),
    outOfRangeKeyBody,
    md5(outOfRangeKeyBody),
  ]);
  const future = new Date(times.now + 2 * 86_400_000).toISOString();

  return [
    // Bytes that are not JSON text.
    pa('truncated JSON', b64(valid.slice(0, valid.length - 7)), { rejected: R.INVALID_JSON }),
    pa('invalid JSON (unquoted keys)', b64('{eventId: 1, page: /x}'), { rejected: R.INVALID_JSON }),
    pa('JSON with trailing garbage', b64(`${valid}}}`), { rejected: R.INVALID_JSON }),
    pa('NaN literal', b64(valid.replace(/"durationMs":\d+/, '"durationMs":NaN')), {
      rejected: R.INVALID_JSON,
    }),
    pa('Infinity literal', b64(valid.replace(/"durationMs":\d+/, '"durationMs":Infinity')), {
      rejected: R.INVALID_JSON,
    }),
    pa('whitespace only', b64('  \n\t '), { rejected: R.INVALID_JSON }),
    pa('UTF-8 byte order mark before JSON', b64(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), goodBody])), {
      rejected: R.INVALID_JSON,
    }),
    pa(
      'invalid UTF-8 (0xFF 0xFE)',
      b64(Buffer.concat([Buffer.from('{"page":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])),
      { rejected: R.INVALID_UTF8 },
    ),
    pa('overlong UTF-8 encoding of "/"', b64(Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])), {
      rejected: R.INVALID_UTF8,
    }),
    pa(
      'UTF-8 encoded lone surrogate',
      b64(Buffer.concat([Buffer.from('"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"')])),
      { rejected: R.INVALID_UTF8 },
    ),
    pa(
      'KPL-like bad magic (not an aggregate, not UTF-8)',
      b64(Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0x00]), goodBody])),
      { rejected: R.INVALID_UTF8 },
    ),
    pa('deeply nested arrays (100 000 levels)', b64(nested(100_000)), { rejected: R.TOO_DEEPLY_NESTED }),
    pa('deeply nested field inside a valid event', b64(valid.replace('{', `{"extra":${nested(65)},`)), {
      rejected: R.TOO_DEEPLY_NESTED,
    }),
    // JSON that is not a page event.
    pa('empty object', b64('{}'), { rejected: R.SCHEMA_VIOLATION }),
    pa('top-level array', b64('[1,2,3]'), { rejected: R.SCHEMA_VIOLATION }),
    pa('top-level string', b64('"hello"'), { rejected: R.SCHEMA_VIOLATION }),
    pa('top-level null', b64('null'), { rejected: R.SCHEMA_VIOLATION }),
    pa(
      'huge number (1e400 parses to Infinity)',
      b64(valid.replace(/"durationMs":\d+/, '"durationMs":1e400')),
      { rejected: R.SCHEMA_VIOLATION },
    ),
    pa('wrong type (durationMs as string)', json(ok(1, { durationMs: '12' as unknown as number })), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('wrong type (revenue as object)', json(ok(2, { revenue: { $gt: 0 } as unknown as number })), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('negative revenue', json(ok(3, { revenue: -5 })), { rejected: R.SCHEMA_VIOLATION }),
    pa('unknown action', json(ok(4, { action: 'drop table' as ClickEvent['action'] })), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('eventId not a UUID', json(ok(5, { eventId: "'; DROP TABLE events; --" })), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('missing event time field', json({ ...ok(6), ts: undefined }), { rejected: R.SCHEMA_VIOLATION }),
    pa('impossible date (February 30)', json(ok(7, { ts: '2026-02-30T00:00:00Z' })), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('page longer than the schema allows', json(ok(8, { page: `/${'x'.repeat(600)}` })), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('~1 MB record (a 1,000,000-character userId)', json(ok(9, { userId: 'u'.repeat(1_000_000) })), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('constructor.prototype payload only', b64('{"constructor":{"prototype":{"polluted":"yes"}}}'), {
      rejected: R.SCHEMA_VIOLATION,
    }),
    pa('absurd event time (1970)', json(ok(10, { ts: '1970-01-01T00:00:00.000Z' })), {
      rejected: R.ABSURD_EVENT_TIME,
    }),
    pa('future event time (2 days after arrival)', json(ok(11, { ts: future })), {
      rejected: R.EVENT_TIME_AHEAD,
    }),
    pa('far-future event time (year 9999)', json(ok(12, { ts: '9999-12-31T23:59:59.000Z' })), {
      rejected: R.EVENT_TIME_AHEAD,
    }),
    // KPL aggregated garbage.
    pa('KPL aggregate with a bad MD5', b64(badMd5), { rejected: R.INVALID_KPL_AGGREGATE }),
    pa('KPL aggregate with truncated protobuf', b64(truncatedKpl), { rejected: R.INVALID_KPL_AGGREGATE }),
    pa('KPL aggregate with an out-of-range key index', b64(outOfRangeKpl), {
      rejected: R.INVALID_KPL_AGGREGATE,
    }),
    pa('KPL magic only (too short)', b64(Buffer.from([0xf3, 0x89, 0x9a, 0xc2, 0x00])), {
      rejected: R.INVALID_KPL_AGGREGATE,
    }),
    // Processed, not rejected.
    pa(
      '__proto__ key inside a valid event',
      b64(
        JSON.stringify(ok(13, { page: '/hostile/proto' })).replace(
          '{',
          '{"__proto__":{"polluted":"yes","page":"/evil"},',
        ),
      ),
      { counted: 'once', page: '/hostile/proto' },
    ),
    pa(
      '__proto__ key written with a JSON unicode escape',
      b64(
        JSON.stringify(ok(29, { page: '/hostile/proto-escape' })).replace(
          '{',
          '{"\\u005f_proto__":{"polluted":"yes","page":"/evil"},',
        ),
      ),
      { counted: 'once', page: '/hostile/proto-escape' },
    ),
    pa('duplicate event id (producer retry)', json(duplicateOf), {
      counted: 'duplicate',
      page: duplicateOf.page,
    }),
    // Only in a hand-made Lambda event.
    pa('invalid base64 characters', '!!!!****', { rejected: R.INVALID_BASE64 }, 'event'),
    pa('unpadded base64 (length not a multiple of 4)', 'eyJhIjoxfQ', { rejected: R.INVALID_BASE64 }, 'event'),
    pa('base64 with whitespace inside', 'eyJh IjoxfQ==', { rejected: R.INVALID_BASE64 }, 'event'),
    pa('empty record', '', { rejected: R.EMPTY_RECORD }, 'event'),
    pa(
      'record over 1 MiB',
      b64(Buffer.alloc(1024 * 1024 + 1, 0x20)),
      { rejected: R.OVERSIZE_RECORD },
      'event',
    ),
    // User functions misbehaving (hostile-operators pipeline).
    op('user map throws', json(ok(20, { page: HOSTILE_PAGES.MAP_THROWS })), { rejected: R.OPERATOR_THREW }),
    op('user map returns undefined', json(ok(21, { page: HOSTILE_PAGES.MAP_RETURNS_UNDEFINED })), {
      rejected: R.OPERATOR_RETURNED_INVALID,
    }),
    op('user filter returns a string', json(ok(22, { page: HOSTILE_PAGES.FILTER_RETURNS_STRING })), {
      rejected: R.OPERATOR_RETURNED_INVALID,
    }),
    op('event-time function throws', json(ok(23, { page: HOSTILE_PAGES.EVENT_TIME_THROWS })), {
      rejected: R.OPERATOR_THREW,
    }),
    op('dedupe id function returns a number', json(ok(24, { page: HOSTILE_PAGES.DEDUPE_RETURNS_NUMBER })), {
      rejected: R.OPERATOR_RETURNED_INVALID,
    }),
    op('missing event time', json({ ...ok(25), ts: undefined }), { rejected: R.MISSING_EVENT_TIME }),
    op('unparseable event time', json(ok(26, { ts: 'yesterday-ish' })), { rejected: R.MISSING_EVENT_TIME }),
    op('key longer than 1024 characters', json(ok(27, { page: `/${'k'.repeat(2000)}` })), {
      rejected: R.INVALID_KEY,
    }),
    op(
      '__proto__ key through user functions',
      b64(
        JSON.stringify(ok(28, { page: '/hostile/proto-op' })).replace(
          '{',
          '{"__proto__":{"polluted":"yes"},',
        ),
      ),
      { counted: 'once', page: '/hostile/proto-op' },
    ),
  ];
}

/** One entry of an interleaved stream. */
export interface StreamEntry {
  readonly data: string;
  readonly partitionKey: string;
  /** The hostile kind, or undefined for a valid record. */
  readonly kind?: HostileKind;
  readonly valid?: ClickEvent;
  /** Pins the record to a shard (Kinesis `ExplicitHashKey`). */
  readonly explicitHashKey?: string;
}

/**
 * `validAround` valid records, then each hostile kind followed by `validAround` valid records: every bad
 * record has good neighbours on both sides, in the same batches.
 */
export function interleave(
  kinds: readonly HostileKind[],
  times: CorpusTimes,
  firstValid: number,
  validAround = 2,
): StreamEntry[] {
  const out: StreamEntry[] = [];
  let n = firstValid;
  const pushValid = (): void => {
    for (let i = 0; i < validAround; i++) {
      const valid = validEvent(n++, times);
      out.push({ data: json(valid), partitionKey: valid.page, valid });
    }
  };
  pushValid();
  for (const kind of kinds) {
    out.push({ data: kind.data, partitionKey: `hostile-${out.length}`, kind });
    pushValid();
  }
  return out;
}

/**
 * What the result rows must say per page: one count per valid record, plus the kinds counted once;
 * duplicates add nothing.
 */
export function expectedCounts(entries: readonly StreamEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entries) {
    const page =
      e.valid?.page ??
      (e.kind !== undefined && 'counted' in e.kind.outcome && e.kind.outcome.counted === 'once'
        ? e.kind.outcome.page
        : undefined);
    if (page !== undefined) counts[page] = (counts[page] ?? 0) + 1;
  }
  return counts;
}

/** True when any of the usual prototypes carries a property hostile input tried to plant. */
export function prototypePolluted(): boolean {
  const probes = [{}, [], Object.create(null) as object, () => undefined];
  return (
    probes.some(
      (p) =>
        (p as Record<string, unknown>).polluted !== undefined ||
        (p as Record<string, unknown>).page !== undefined,
    ) || 'polluted' in Object.prototype
  );
}
