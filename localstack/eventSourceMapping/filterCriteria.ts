/**
 * Lambda event filtering (the EventBridge pattern subset Lambda accepts, matched by the rules of
 * aws/event-ruler) applied to a Kinesis record: `{ kinesisSchemaVersion, partitionKey, sequenceNumber,
 * approximateArrivalTimestamp, data }` where `data` is the decoded payload when it is JSON; or to a
 * DynamoDB-stream record as the event carries it (`{ eventName, …, dynamodb: { Keys, NewImage, … } }`,
 * Lambda guide with-ddb-filtering). Patterns of one mapping are OR-ed; the keys of one pattern are AND-ed;
 * a leaf is a list of matchers, any of which may match (a list value in the record matches when any element
 * does; a list of objects matches a nested pattern when one element does); `exists` sees only leaves.
 *
 * Hand-written because no maintained npm package implements Lambda's variant of the syntax (prefix,
 * suffix, equals-ignore-case, numeric, exists, anything-but, `$or`) without pulling in an AWS runtime.
 */
import { eventRecord } from '../../functions/adapters/dynamoDBStreamRecord';
import { FilterPatternError } from './errors';
import { isTableStream } from './streamEvent';
import type { KinesisRecordData } from './types';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Leaf = (value: Json | undefined, present: boolean) => boolean;
/** A compiled pattern: returns true when the object matches. */
export type RecordFilter = (record: Readonly<Record<string, unknown>>) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function numericMatcher(spec: unknown, path: string): (n: number) => boolean {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0 || spec.length > 4) {
    throw new FilterPatternError(
      `numeric matcher at ${path} must be [op, number] or [op, number, op, number] (given ${JSON.stringify(spec)})`,
    );
  }
  const tests: ((n: number) => boolean)[] = [];
  for (let i = 0; i < spec.length; i += 2) {
    const op = spec[i] as unknown;
    const bound = spec[i + 1] as unknown;
    if (typeof bound !== 'number')
      throw new FilterPatternError(
        `numeric bound at ${path} must be a number (given ${JSON.stringify(bound)})`,
      );
    switch (op) {
      case '=':
        tests.push((n) => n === bound);
        break;
      case '<':
        tests.push((n) => n < bound);
        break;
      case '<=':
        tests.push((n) => n <= bound);
        break;
      case '>':
        tests.push((n) => n > bound);
        break;
      case '>=':
        tests.push((n) => n >= bound);
        break;
      default:
        throw new FilterPatternError(
          `numeric operator at ${path} must be one of = < <= > >= (given ${JSON.stringify(op)})`,
        );
    }
  }
  return (n) => tests.every((t) => t(n));
}

/** One matcher of a leaf list, applied to a scalar value. */
function scalarMatcher(spec: unknown, path: string): Leaf {
  if (spec === null || typeof spec === 'string' || typeof spec === 'number' || typeof spec === 'boolean') {
    return (value, present) => present && value === spec;
  }
  if (!isObject(spec))
    throw new FilterPatternError(
      `filter value at ${path} must be a scalar or a matcher object (given ${JSON.stringify(spec)})`,
    );
  const keys = Object.keys(spec);
  if (keys.length !== 1)
    throw new FilterPatternError(
      `matcher at ${path} must have exactly one operator (given ${JSON.stringify(spec)})`,
    );
  const op = keys[0] as string;
  const arg = spec[op];
  switch (op) {
    case 'prefix':
      if (typeof arg !== 'string') break;
      return (value, present) => present && typeof value === 'string' && value.startsWith(arg);
    case 'suffix':
      if (typeof arg !== 'string') break;
      return (value, present) => present && typeof value === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      if (typeof arg !== 'string') break;
      return (value, present) =>
        present && typeof value === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'exists':
      if (typeof arg !== 'boolean') break;
      return (_value, present) => present === arg;
    case 'numeric': {
      const test = numericMatcher(arg, path);
      return (value, present) => present && typeof value === 'number' && test(value);
    }
    case 'anything-but': {
      if (isObject(arg)) {
        const inner = scalarMatcher(arg, path);
        return (value, present) => present && !inner(value, present);
      }
      const excluded = Array.isArray(arg) ? arg : [arg];
      if (!excluded.every((v) => typeof v === 'string' || typeof v === 'number')) break;
      return (value, present) =>
        present &&
        value !== null &&
        typeof value !== 'object' &&
        !excluded.includes(value as string | number);
    }
    default:
      throw new FilterPatternError(`unsupported filter operator "${op}" at ${path}`);
  }
  throw new FilterPatternError(`invalid argument for "${op}" at ${path} (given ${JSON.stringify(arg)})`);
}

/** The leaf values of a field: itself when scalar, the scalars of a list (nested lists flattened); objects are not leaves. */
const leavesOf = (value: Json): Json[] =>
  Array.isArray(value) ? value.flatMap(leavesOf) : isObject(value) ? [] : [value];

function compileLeaf(list: unknown[], path: string): Leaf {
  if (list.length === 0) throw new FilterPatternError(`filter list at ${path} must not be empty`);
  const matchers = list.map((spec) => scalarMatcher(spec, path));
  return (value, present) => {
    // Like event-ruler, a field matches through its leaves (any of them): an object, or a list without
    // scalars, is no leaf, so `exists: true` does not match it and `exists: false` does.
    const leaves = present ? leavesOf(value as Json) : [];
    if (leaves.length === 0) return matchers.some((m) => m(undefined, false));
    return matchers.some((m) => leaves.some((leaf) => m(leaf, true)));
  };
}

function compileObject(pattern: Record<string, unknown>, path: string): (value: unknown) => boolean {
  const parts: ((value: Record<string, unknown> | undefined) => boolean)[] = [];
  for (const [key, spec] of Object.entries(pattern)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(spec) || spec.length < 2)
        throw new FilterPatternError(`$or at ${childPath} must list at least two patterns`);
      const alternatives = spec.map((alt, i) => {
        if (!isObject(alt))
          throw new FilterPatternError(`$or alternative ${i} at ${childPath} must be an object`);
        return compileObject(alt, path);
      });
      parts.push((obj) => alternatives.some((alt) => alt(obj)));
    } else if (Array.isArray(spec)) {
      const leaf = compileLeaf(spec, childPath);
      parts.push((obj) => {
        const present = obj !== undefined && Object.prototype.hasOwnProperty.call(obj, key);
        return leaf(present ? (obj[key] as Json) : undefined, present);
      });
    } else if (isObject(spec)) {
      const nested = compileObject(spec, childPath);
      parts.push((obj) => nested(obj?.[key]));
    } else {
      throw new FilterPatternError(
        `filter at ${childPath} must be a list or an object (given ${JSON.stringify(spec)})`,
      );
    }
  }
  const matches = (value: unknown): boolean => {
    // A list of objects is "crushed" into its field, as in event-ruler: the pattern matches when one element
    // does (all of the pattern's fields in that same element).
    if (Array.isArray(value) && value.length > 0) return value.some(matches);
    return parts.every((part) => part(isObject(value) ? value : undefined));
  };
  return matches;
}

/**
 * Compiles a mapping's `FilterCriteria.Filters[].Pattern` strings. With no patterns every record passes.
 *
 * @throws FilterPatternError when a pattern is not valid JSON or uses unsupported syntax
 * @example
 * const keep = compileFilterCriteria(['{"data":{"kind":["click"]}}']);
 * keep({ partitionKey: 'a', data: { kind: 'click' } }); // true
 */
export function compileFilterCriteria(patterns: readonly string[]): RecordFilter {
  if (patterns.length === 0) return () => true;
  if (patterns.length > 5)
    throw new FilterPatternError(`FilterCriteria allows at most 5 filters (given ${patterns.length})`);
  const compiled = patterns.map((text, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new FilterPatternError(`filter pattern ${i} is not valid JSON (given ${text})`, { cause: error });
    }
    if (!isObject(parsed))
      throw new FilterPatternError(`filter pattern ${i} must be a JSON object (given ${text})`);
    return compileObject(parsed, '');
  });
  return (record) => compiled.some((match) => match(record));
}

/** The object Lambda matches Kinesis filter patterns against: metadata plus `data` parsed when it is JSON. */
export function filterView(record: {
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly data: Uint8Array;
  readonly approximateArrivalTimestamp: number;
}): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(record.data).toString('utf8'));
  } catch {
    data = Buffer.from(record.data).toString('base64');
  }
  return {
    kinesisSchemaVersion: '1.0',
    partitionKey: record.partitionKey,
    sequenceNumber: record.sequenceNumber,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp / 1000,
    data,
  };
}

/**
 * The object Lambda matches a DynamoDB-stream record against: the record itself (`eventName`, `dynamodb.Keys`,
 * `dynamodb.NewImage`…), as `SdkDynamoDBStreamReader` stores it in `data`, with its `eventSourceARN`.
 */
export function tableFilterView(record: KinesisRecordData, streamArn: string): Record<string, unknown> {
  return eventRecord(Buffer.from(record.data).toString('utf8'), streamArn);
}

/**
 * The filter of a mapping on `streamArn`: its patterns matched against the view Lambda builds for that source
 * (the Kinesis record view, or the DynamoDB-stream record); undefined without patterns (no view is built).
 */
export function streamRecordFilter(
  patterns: readonly string[],
  streamArn: string,
): ((record: KinesisRecordData) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const keep = compileFilterCriteria(patterns);
  if (isTableStream(streamArn)) return (record) => keep(tableFilterView(record, streamArn));
  return (record) => keep(filterView(record));
}
