import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Requests and consumed capacity seen by one DynamoDB client, by command name. */
export interface RequestCounts {
  readonly byCommand: Record<string, number>;
  total: number;
  readUnits: number;
  writeUnits: number;
}

interface ConsumedCapacityLike {
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  CapacityUnits?: number;
}

const READ_COMMANDS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);

/**
 * Counts every request a DynamoDB client sends (retries included: they are billed) and asks for the consumed
 * capacity so the cost model uses what the emulator reports rather than a guess.
 */
export function countDynamoDbRequests(client: DynamoDBClient): RequestCounts {
  const counts: RequestCounts = { byCommand: {}, total: 0, readUnits: 0, writeUnits: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string };
      if (input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'TOTAL';
      const name = context.commandName ?? 'unknown';
      counts.byCommand[name] = (counts.byCommand[name] ?? 0) + 1;
      counts.total += 1;
      const result = await next(args);
      const output = result.output as { ConsumedCapacity?: ConsumedCapacityLike | ConsumedCapacityLike[] };
      const consumed = ([] as ConsumedCapacityLike[]).concat(output.ConsumedCapacity ?? []);
      for (const c of consumed) {
        const units = c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0);
        if (READ_COMMANDS.has(name)) counts.readUnits += units;
        else counts.writeUnits += units;
      }
      return result;
    },
    { step: 'initialize', name: 'shardflowBenchRequestCounter' },
  );
  return counts;
}
