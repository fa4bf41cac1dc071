/** Renders `results.json` as the Markdown table `RESULTS.md`, with each headline figure's goal and verdict. */

/** A part's figures: numbers, or one level of named numbers (e.g. cost per approach). */
export type Figures = Readonly<Record<string, number | Readonly<Record<string, number>>>>;

/** A goal on one figure of one part, from issue 7. */
export interface Goal {
  readonly part: string;
  readonly figure: string;
  readonly atLeast?: number;
  readonly atMost?: number;
  /** Why the goal is what it is: what the figure is compared against. */
  readonly against: string;
  /**
   * Why this figure falls short of its goal on this design and these emulators, from the measured
   * breakdown: printed in RESULTS.md only while the goal is not met.
   */
  readonly shortfall?: string;
}

export const GOALS: readonly Goal[] = [
  {
    part: 'engine',
    figure: 'ratio',
    atLeast: 0.8,
    against: 'operator path vs bare base64 + JSON.parse, same records, same process',
    shortfall:
      'in CPU time per record, relative to the bare loop, the operator path spends ~1.02× decoding (the fused decode is as fast as the baseline), +0.24–0.35× in the compiled zod schema, +0.23–0.38× in per-record bookkeeping (sequence checks, event time, dedupe id, lateness, routing) and +0.34–0.47× in combine (grouping by key and window, the dedupe-id sets, the aggregates). A ratio of 0.8 allows 1.25× in total, which decoding plus zod validation alone use up. The lean pipeline (count + sum only, `leanRatio`) is only ~5% faster over repeated runs, so the sketches are not what holds the ratio down. Single runs on this shared 2-core machine vary by about ±0.05 (0.36–0.48 over 8 runs of the same code). See functions/core/README.md, "Hot path".',
  },
  {
    part: 'state',
    figure: 'ratio',
    atLeast: 20,
    against: 'naive UpdateItem-per-record requests / shardflow requests',
    shortfall:
      'DESIGN.md §3 changes each (key, window) item with its own conditional write; DynamoDB has no multi-item conditional write except TransactWriteItems, which bills two units per item and cancels every item on one conflict. With 50 keys per 1,000-record batch that floor is 50 writes per 1,000 records, i.e. 20× at best; emitting a closed window adds two conditional transitions (open → emitting → emitted, see `windowsEmittedPer1000`), and the shard progress item one write per batch. Modeled cost per million events is still 2.4× below the naive handler and 6.9× below the idempotent one (`costPerMillionUsd`).',
  },
  {
    part: 'state',
    figure: 'idempotentRatio',
    atLeast: 40,
    against: 'Powertools-idempotent per-record requests / shardflow requests',
    shortfall:
      '40× means at most 75 requests per 1,000 records: the 50 window writes of the floor above plus 35 for the emission transitions (17.5 windows emitted per 1,000 records in this workload) already exceed it.',
  },
  {
    part: 'e2e',
    figure: 'ratio',
    atLeast: 0.9,
    against: 'processed records/s through the deployed stack vs raw GetRecords records/s of the same emulator',
    shortfall:
      'the baseline only reads (kinesis-mock serves a 500-record page in ~40 ms). A 500-record batch also makes ~35 DynamoDB requests (~31 conditional window writes, progress read and write, BatchGetItem) and 2 S3 requests, plus 2 conditional transitions and an S3 PUT per window it closes, each a round trip through the edge to DynamoDB Local or s3rver on a 2-core machine ~85% busy: measured ~68 ms per conditional write with 16 in flight, ~150 ms of window writes and ~335 ms of handler time per batch on average, of which decode + prepare + combine are ~18 ms. A ratio of 0.9 needs each batch done in ~45 ms, less than one emulated conditional write.',
  },
  { part: 'load', figure: 'lost', atMost: 0, against: 'input − (result record counts + rejected + late), npm run test:load' },
  { part: 'load', figure: 'maxRssMb', atMost: 512, against: 'max RSS of the process hosting the ESM runtime and its workers' },
  { part: 'bundle', figure: 'ratio', against: 'cold init of the operator bundle / cold init of an empty handler bundle (no goal set)' },
];

const METHODS: readonly string[] = [
  '**engine** (`engine.ts`): `prepare` + `combine` of page-activity vs a bare base64 + `JSON.parse` loop over the same records, alternating rounds, medians.',
  '**state** (`state.ts`): the stream of `workload.ts` (1,000-record batches, 50 Zipf(1.1) keys, 20 s of event time per batch) through the real `BatchProcessor` + `DynamoDBStateStore` (one warm instance, S3 on s3rver, windows still open at the end closed and counted), the naive handler and the Powertools-idempotent handler, all on the same DynamoDB Local; requests counted by SDK middleware (`requestCounter.ts`), retries included. The per-record baselines run the first 4 batches (their requests per record are constant). `windowWritesPer1000` and `windowsEmittedPer1000` break shardflow\'s requests down: each window emitted costs two conditional writes and one S3 PUT. Cost per million events (`pricing.ts`): Lambda GB-s from the measured run time at 512 MB, DynamoDB units as reported by the emulator (at least one per request), S3 requests, Kinesis payload units and shard hours (identical for all). `conflictRate4Shards`: conditional-check failures / conditional writes when four instances apply four shards\' batches of the same keys concurrently.',
  '**e2e** (`e2e.ts`): the real app synthesized (`cdk synth`), deployed by the local deployer; a backlog is put on its stream, then the operator\'s event source mapping (warm worker) drains it: records/s from mapping start to idle. Baseline: GetRecords over the same stream from TRIM_HORIZON, limit = the mapping\'s BatchSize, shards in parallel. Latency: a 100 ms monitor records when the pipeline watermark (shard progress items) first passes each window\'s close time and when the window\'s Parquet object is first listed.',
  '**bundle** (`bundle.ts`): `functions/handlers/operator.ts` bundled with the stack\'s esbuild settings (minified CJS, node22, AWS SDK external); cold init = a fresh `node` process from start to the end of one one-record invocation against the local cloud, vs an empty handler bundled the same way (median of 7 alternating runs).',
  '**load** (`test/load/million.ts`, `npm run test:load`): events put while the mapping runs, windows closed at end of input, results `events` + rejected + late compared with the input; max RSS of the process hosting the ESM runtime and its worker threads.',
];

/** `[name, value]` pairs with nested figures as `outer.inner`. */
export function flattenFigures(figures: Figures): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(figures)) {
    if (typeof v === 'number') out.push([k, v]);
    else for (const [inner, n] of Object.entries(v)) out.push([`${k}.${inner}`, n]);
  }
  return out;
}

function verdict(goal: Goal, value: number | undefined): string {
  if (value === undefined) return 'not measured';
  if (goal.atLeast !== undefined) return value >= goal.atLeast ? `met (≥ ${goal.atLeast})` : `NOT met (goal ≥ ${goal.atLeast})`;
  if (goal.atMost !== undefined) return value <= goal.atMost ? `met (≤ ${goal.atMost})` : `NOT met (goal ≤ ${goal.atMost})`;
  return 'no goal';
}

/** The Markdown document: a goals table, then every figure per part. */
export function renderResultsMarkdown(results: Readonly<Record<string, Figures>>): string {
  const lines = [
    '# Benchmark results',
    '',
    'Generated by `npm run bench` from `results.json` (each part measured against its baseline in the same run, on the',
    'embedded local cloud of this machine). Re-run to refresh; `--only <part>` refreshes one part.',
    '',
    '| part | figure | value | goal | baseline |',
    '|---|---|---:|---|---|',
  ];
  for (const goal of GOALS) {
    const raw = results[goal.part]?.[goal.figure];
    const value = typeof raw === 'number' ? raw : undefined;
    lines.push(`| ${goal.part} | ${goal.figure} | ${value === undefined ? '–' : value.toLocaleString('en-US')} | ${verdict(goal, value)} | ${goal.against} |`);
  }
  const short = GOALS.filter((goal) => {
    const raw = results[goal.part]?.[goal.figure];
    return goal.shortfall !== undefined && typeof raw === 'number' && verdict(goal, raw).startsWith('NOT met');
  });
  if (short.length > 0) {
    lines.push('', '## Why the goals not met are not met', '');
    for (const goal of short) lines.push(`- **${goal.part} ${goal.figure}**: ${goal.shortfall}`);
  }
  lines.push('', '## All figures', '', '| part | figure | value |', '|---|---|---:|');
  for (const [part, figures] of Object.entries(results)) {
    for (const [name, value] of flattenFigures(figures)) lines.push(`| ${part} | ${name} | ${value.toLocaleString('en-US')} |`);
  }
  lines.push('', '## How each part is measured', '', ...METHODS.map((m) => `- ${m}`));
  return `${lines.join('\n')}\n`;
}
