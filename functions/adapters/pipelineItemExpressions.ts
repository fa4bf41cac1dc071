/**
 * The DynamoDB expressions on the pipeline item (`core/state/stateItems.ts`: its marks): raising marks, each
 * only upwards, and the condition a shard's first commit holds on the marks it started from.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { storedMark } from '../core/state/stateItems';

type Values = Record<string, AttributeValue>;

/** The parts of a conditional update or check. */
export interface Expressions {
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Values;
}

/**
 * An update setting every mark of `marks` to its value, conditioned on every one being absent, NULL (how
 * -Infinity is stored) or below it (one mark: a plain conditional raise; several: all at once or none). The
 * same rule as `marksBelow` (`core/state/pipelineMarks.ts`), which decides what a refused update tries again.
 */
export function raiseMarksUpdate(
  pipeline: string,
  marks: readonly (readonly [name: string, value: number])[],
): Expressions & { readonly UpdateExpression: string } {
  const names: Record<string, string> = { '#p': 'pipeline' };
  const values: Values = { ':p': { S: pipeline }, ':null': { S: 'NULL' } };
  const sets = ['#p = :p'];
  const conditions: string[] = [];
  marks.forEach(([name, value], i) => {
    names[`#m${i}`] = name;
    values[`:m${i}`] = { N: String(storedMark(value)) };
    sets.push(`#m${i} = :m${i}`);
    conditions.push(`(attribute_not_exists(#m${i}) OR attribute_type(#m${i}, :null) OR #m${i} < :m${i})`);
  });
  return {
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * The condition of a shard's first commit on the pipeline item: its `closedWatermark` and `closedEnd` are
 * still what the shard read (null: absent, or stored as NULL, which reads as -Infinity too).
 */
export function closedMarksCondition(read: number | null, readEnd: number | null): Expressions {
  const values: Values = {};
  const held = (name: string, value: number | null, placeholder: string): string => {
    if (value === null) {
      values[':null'] = { S: 'NULL' };
      return `(attribute_not_exists(${name}) OR attribute_type(${name}, :null))`;
    }
    values[placeholder] = { N: String(value) };
    return `${name} = ${placeholder}`;
  };
  return {
    ConditionExpression: `${held('#cw', read, ':cw')} AND ${held('#ce', readEnd, ':ce')}`,
    ExpressionAttributeNames: { '#cw': 'closedWatermark', '#ce': 'closedEnd' },
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}
