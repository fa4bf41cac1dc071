/**
 * A reproducible clickstream for the default `page-activity` pipeline, with the awkward parts of real
 * traffic injected on purpose (key skew, out-of-order, late, duplicate and malformed records) and the
 * answers a correct pipeline must produce computed alongside, so tests and `npm start` can check them.
 */
import { createRandom, zipfSampler, type Random } from './random';

/** Actions of a click event; purchases are the only ones with revenue. */
export const CLICK_ACTIONS = ['view', 'click', 'add_to_cart', 'purchase'] as const;
export type ClickAction = (typeof CLICK_ACTIONS)[number];

export const DEVICES = ['mobile', 'desktop', 'tablet'] as const;
export type Device = (typeof DEVICES)[number];

/** One well-formed clickstream event, exactly as serialised to JSON. */
export interface ClickEvent {
  readonly eventId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly page: string;
  readonly action: ClickAction;
  /** ISO-3166 alpha-2 country code. */
  readonly country: string;
  readonly device: Device;
  /** Time on page in milliseconds, ≥ 0. */
  readonly durationMs: number;
  /** Order value in currency units, > 0 only for purchases. */
  readonly revenue: number;
  /** Event time, ISO-8601 UTC with milliseconds. */
  readonly ts: string;
}

/** What a generated record is, for tests that need to tell them apart. */
export const RECORD_KINDS = {
  /** A distinct, valid, on-time event: counted in the totals. */
  EVENT: 'event',
  /** An exact re-send of an earlier event (same eventId): must be deduplicated. */
  DUPLICATE: 'duplicate',
  /** A valid event for a window that has closed by the time it is sent: goes to `late/`. */
  LATE: 'late',
  /** Invalid JSON or a schema violation: goes to `rejected/`. */
  MALFORMED: 'malformed',
} as const;
export type RecordKind = (typeof RECORD_KINDS)[keyof typeof RECORD_KINDS];

/** One record in send order. */
export interface GeneratedRecord {
  /** The payload exactly as it is put on the stream (one JSON line, possibly invalid). */
  readonly data: string;
  /** Partition key: the userId for events; a generated key for malformed records. */
  readonly partitionKey: string;
  readonly kind: RecordKind;
  /** The parsed event, absent for malformed records. */
  readonly event?: ClickEvent;
}

/** Count, purchases and revenue of a group of events. */
export interface ActivityTotals {
  count: number;
  purchases: number;
  /** Sum of revenue, rounded to cents. */
  revenue: number;
}

/** The answers a correct pipeline produces for the dataset. */
export interface ClickstreamTotals {
  /** Over all distinct on-time valid events. */
  readonly overall: ActivityTotals;
  /** Per page. */
  readonly byPage: Readonly<Record<string, ActivityTotals>>;
  /** Per tumbling window, keyed by the window start as ISO-8601. */
  readonly byWindow: Readonly<Record<string, ActivityTotals>>;
  /** Per (page, window), keyed by `<page>|<window start ISO>`. */
  readonly byPageWindow: Readonly<Record<string, ActivityTotals>>;
  /** How many of each kind of awkward record were injected. */
  readonly injected: {
    readonly malformed: number;
    readonly duplicates: number;
    readonly late: number;
    /** Valid events whose event time is earlier than a previously sent event's (within maxOutOfOrderness). */
    readonly outOfOrder: number;
  };
  /** Total records in send order (events + duplicates + late + malformed). */
  readonly records: number;
}

export interface ClickstreamDataset {
  /** All records in send order; the late records come last. */
  readonly records: readonly GeneratedRecord[];
  readonly totals: ClickstreamTotals;
  /** The options after defaults were applied. */
  readonly options: Required<ClickstreamOptions>;
}

/** Options of {@link generateClickstream}; every field has a default. */
export interface ClickstreamOptions {
  /** Distinct valid on-time events, ≥ 1. @default 2000 */
  readonly events?: number;
  /** PRNG seed: the same seed and options always give the same dataset. @default 1 */
  readonly seed?: number;
  /** Event time of the first event, epoch ms. @default 2026-01-01T12:00:00Z */
  readonly baseTime?: number;
  /** Range of event times, ms. @default 360000 (6 minutes) */
  readonly spanMs?: number;
  /** Tumbling window size used for the per-window totals, ms. @default 60000 */
  readonly windowMs?: number;
  /** Fraction (0–1) of events sent out of order, each by less than `maxOutOfOrdernessMs`. @default 0.05 */
  readonly outOfOrderFraction?: number;
  /** The pipeline's max out-of-orderness, ms. @default 10000 */
  readonly maxOutOfOrdernessMs?: number;
  /** The pipeline's allowed lateness, ms. @default 30000 */
  readonly allowedLatenessMs?: number;
  /** Exact re-sends of earlier events. @default 1% of events, at least 1 */
  readonly duplicates?: number;
  /** Events sent after their window closed. @default 0.5% of events, at least 1 */
  readonly late?: number;
  /** Malformed records (invalid JSON and schema violations). @default 1% of events, at least 2 */
  readonly malformed?: number;
  /** Number of distinct pages (Zipf-skewed). @default 25 */
  readonly pages?: number;
  /** Number of distinct users. @default 200 */
  readonly users?: number;
}

const DEFAULT_BASE_TIME = Date.UTC(2026, 0, 1, 12, 0, 0);

const COUNTRIES: readonly (readonly [string, number])[] = [
  ['US', 30],
  ['GB', 10],
  ['DE', 9],
  ['FR', 7],
  ['IN', 8],
  ['BR', 6],
  ['JP', 6],
  ['CA', 5],
  ['ES', 4],
  ['IT', 4],
  ['NL', 3],
  ['AU', 3],
  ['MX', 3],
  ['SE', 2],
];
const DEVICE_WEIGHTS: readonly (readonly [Device, number])[] = [
  ['mobile', 55],
  ['desktop', 38],
  ['tablet', 7],
];
const ACTION_WEIGHTS: readonly (readonly [ClickAction, number])[] = [
  ['view', 70],
  ['click', 20],
  ['add_to_cart', 7],
  ['purchase', 3],
];
const PAGE_STEMS = ['/', '/search', '/cart', '/checkout', '/account', '/deals', '/help'] as const;

/** Page names by popularity rank: a few fixed pages, then product pages. */
export function pageName(rank: number): string {
  return PAGE_STEMS[rank] ?? `/products/${rank - PAGE_STEMS.length + 1}`;
}

function resolveOptions(options: ClickstreamOptions): Required<ClickstreamOptions> {
  const events = options.events ?? 2000;
  const resolved: Required<ClickstreamOptions> = {
    events,
    seed: options.seed ?? 1,
    baseTime: options.baseTime ?? DEFAULT_BASE_TIME,
    spanMs: options.spanMs ?? 6 * 60_000,
    windowMs: options.windowMs ?? 60_000,
    outOfOrderFraction: options.outOfOrderFraction ?? 0.05,
    maxOutOfOrdernessMs: options.maxOutOfOrdernessMs ?? 10_000,
    allowedLatenessMs: options.allowedLatenessMs ?? 30_000,
    duplicates: options.duplicates ?? Math.max(1, Math.round(events * 0.01)),
    late: options.late ?? Math.max(1, Math.round(events * 0.005)),
    malformed: options.malformed ?? Math.max(2, Math.round(events * 0.01)),
    pages: options.pages ?? 25,
    users: options.users ?? 200,
  };
  const problems: string[] = [];
  const positiveInt = (name: keyof ClickstreamOptions, min: number): void => {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < min)
      problems.push(`${name} must be an integer ≥ ${min} (given ${value})`);
  };
  positiveInt('events', 1);
  positiveInt('spanMs', 1);
  positiveInt('windowMs', 1);
  positiveInt('duplicates', 0);
  positiveInt('late', 0);
  positiveInt('malformed', 0);
  positiveInt('pages', 1);
  positiveInt('users', 1);
  positiveInt('maxOutOfOrdernessMs', 0);
  positiveInt('allowedLatenessMs', 0);
  if (!(resolved.outOfOrderFraction >= 0 && resolved.outOfOrderFraction <= 1)) {
    problems.push(`outOfOrderFraction must be between 0 and 1 (given ${resolved.outOfOrderFraction})`);
  }
  // A late record targets the first window, so its close (end + lateness) must fall well inside the span.
  const closeOfFirstWindow =
    resolved.windowMs -
    (resolved.baseTime % resolved.windowMs) +
    resolved.allowedLatenessMs +
    resolved.maxOutOfOrdernessMs;
  if (resolved.late > 0 && resolved.spanMs < closeOfFirstWindow + resolved.windowMs) {
    problems.push(
      `spanMs must be at least ${closeOfFirstWindow + resolved.windowMs} to inject late events (given ${resolved.spanMs})`,
    );
  }
  if (problems.length > 0) throw new RangeError(`Invalid clickstream options: ${problems.join('; ')}`);
  return resolved;
}

function addTo(map: Record<string, ActivityTotals>, key: string, event: ClickEvent): void {
  const totals = (map[key] ??= { count: 0, purchases: 0, revenue: 0 });
  totals.count += 1;
  if (event.action === 'purchase') totals.purchases += 1;
  totals.revenue = Math.round((totals.revenue + event.revenue) * 100) / 100;
}

/** Window start (epoch-aligned tumbling window) as ISO-8601. */
export function windowStartIso(eventTime: number, windowMs: number): string {
  return new Date(eventTime - (((eventTime % windowMs) + windowMs) % windowMs)).toISOString();
}

/**
 * Generates a reproducible clickstream and the answers a correct pipeline must produce.
 *
 * @example
 * const { records, totals } = generateClickstream({ events: 500, seed: 7 });
 * totals.byPage['/'].count; // distinct on-time events on the home page
 */
export function generateClickstream(options: ClickstreamOptions = {}): ClickstreamDataset {
  const opts = resolveOptions(options);
  const rng = createRandom(opts.seed);
  const pageRank = zipfSampler(opts.pages, 1.1);
  const userRank = zipfSampler(opts.users, 0.8);
  const sessions = new Map<string, string>();

  const makeEvent = (eventTime: number): ClickEvent => {
    const userId = `u-${String(userRank(rng) + 1).padStart(4, '0')}`;
    let sessionId = sessions.get(userId);
    if (sessionId === undefined || rng.chance(0.05)) {
      sessionId = `s-${rng.uuid().slice(0, 13)}`;
      sessions.set(userId, sessionId);
    }
    const action = rng.weighted(ACTION_WEIGHTS);
    const durationMs = action === 'view' ? rng.int(200, 120_000) : rng.int(0, 5_000);
    const revenue = action === 'purchase' ? rng.int(500, 50_000) / 100 : 0;
    return {
      eventId: rng.uuid(),
      userId,
      sessionId,
      page: pageName(pageRank(rng)),
      action,
      country: rng.weighted(COUNTRIES),
      device: rng.weighted(DEVICE_WEIGHTS),
      durationMs,
      revenue,
      ts: new Date(eventTime).toISOString(),
    };
  };

  const records: GeneratedRecord[] = [];
  const onTime: ClickEvent[] = [];
  let outOfOrder = 0;
  let maxSent = Number.NEGATIVE_INFINITY;
  const slot = opts.spanMs / opts.events;

  // Insertion points of duplicates and malformed records, spread over the run by the PRNG.
  const duplicateAt = new Set<number>();
  while (duplicateAt.size < Math.min(opts.duplicates, opts.events))
    duplicateAt.add(rng.int(0, opts.events - 1));
  const malformedAt: number[] = Array.from({ length: opts.malformed }, () =>
    rng.int(0, opts.events - 1),
  ).sort((a, b) => a - b);
  let malformedNext = 0;
  let duplicatesLeft = opts.duplicates;

  for (let i = 0; i < opts.events; i++) {
    let eventTime = opts.baseTime + Math.floor(i * slot + rng.next() * slot);
    // Out of order: strictly less than maxOutOfOrderness behind the newest event sent, so never late.
    const maxShift = Math.min(opts.maxOutOfOrdernessMs - 1, eventTime - opts.baseTime);
    if (maxShift > 0 && rng.chance(opts.outOfOrderFraction)) {
      eventTime -= rng.int(1, maxShift);
    }
    if (eventTime < maxSent) outOfOrder += 1;
    maxSent = Math.max(maxSent, eventTime);
    const event = makeEvent(eventTime);
    const data = JSON.stringify(event);
    records.push({ data, partitionKey: event.userId, kind: RECORD_KINDS.EVENT, event });
    onTime.push(event);
    if (duplicateAt.has(i) && duplicatesLeft > 0) {
      duplicatesLeft -= 1;
      records.push({ data, partitionKey: event.userId, kind: RECORD_KINDS.DUPLICATE, event });
    }
    while (malformedAt[malformedNext] === i) {
      malformedNext += 1;
      records.push(makeMalformed(rng, makeEvent(eventTime)));
    }
  }
  // Any duplicates beyond the number of events re-send the last events.
  for (let d = 0; d < duplicatesLeft; d++) {
    const original = onTime[onTime.length - 1 - (d % onTime.length)];
    if (original)
      records.push({
        data: JSON.stringify(original),
        partitionKey: original.userId,
        kind: RECORD_KINDS.DUPLICATE,
        event: original,
      });
  }
  // Late events: times inside the first window, sent after the watermark has passed its close.
  const firstWindowStart = opts.baseTime - (opts.baseTime % opts.windowMs);
  for (let l = 0; l < opts.late; l++) {
    const eventTime = opts.baseTime + rng.int(0, firstWindowStart + opts.windowMs - opts.baseTime - 1);
    const event = makeEvent(eventTime);
    records.push({ data: JSON.stringify(event), partitionKey: event.userId, kind: RECORD_KINDS.LATE, event });
  }

  const overall: Record<string, ActivityTotals> = {};
  const byPage: Record<string, ActivityTotals> = {};
  const byWindow: Record<string, ActivityTotals> = {};
  const byPageWindow: Record<string, ActivityTotals> = {};
  for (const event of onTime) {
    const window = windowStartIso(Date.parse(event.ts), opts.windowMs);
    addTo(overall, 'all', event);
    addTo(byPage, event.page, event);
    addTo(byWindow, window, event);
    addTo(byPageWindow, `${event.page}|${window}`, event);
  }
  return {
    records,
    options: opts,
    totals: {
      overall: overall['all'] ?? { count: 0, purchases: 0, revenue: 0 },
      byPage,
      byWindow,
      byPageWindow,
      injected: { malformed: opts.malformed, duplicates: opts.duplicates, late: opts.late, outOfOrder },
      records: records.length,
    },
  };
}

/** A record that the pipeline must reject: invalid JSON or one of several schema violations. */
function makeMalformed(rng: Random, template: ClickEvent): GeneratedRecord {
  const partitionKey = template.userId;
  const variant = rng.int(0, 4);
  let data: string;
  switch (variant) {
    case 0:
      data = JSON.stringify(template).slice(0, 40); // truncated: invalid JSON
      break;
    case 1:
      data = JSON.stringify({ ...template, durationMs: 'fast' });
      break;
    case 2:
      data = JSON.stringify({ ...template, action: 'teleport' });
      break;
    case 3: {
      const { page: _page, ...withoutPage } = template;
      data = JSON.stringify(withoutPage);
      break;
    }
    default:
      data = JSON.stringify({ ...template, ts: 'not-a-time' });
  }
  return { data, partitionKey, kind: RECORD_KINDS.MALFORMED };
}

/** The dataset as JSON Lines (one record per line), e.g. for `shardflow send` or `run --input`. */
export function toJsonLines(records: readonly GeneratedRecord[]): string {
  return records.map((r) => r.data.replace(/\n/g, ' ')).join('\n') + '\n';
}
