/**
 * `shardflow run` for a table-source pipeline: the change file (`tableChangeFile.ts`) applied to the source
 * table as writes, in file order, one at a time (a later write of the same item must land after the earlier
 * one), so the table's stream carries the changes the pipeline reads.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  DeleteItemCommand,
  DescribeTableCommand,
  PutItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { InputError, NotRunningError } from './errors';
import { parseChangeFile, type ChangeFile, type KeyAttribute } from './tableChangeFile';

/** The key attributes of `table`, from DescribeTable. */
export async function tableKey(dynamoDb: DynamoDBClient, table: string): Promise<KeyAttribute[]> {
  const described = await dynamoDb
    .send(new DescribeTableCommand({ TableName: table }))
    .catch((error: unknown) => {
      throw new NotRunningError(
        `The source table ${table} is not on the local cloud (${(error as Error).name}): deploy the pipeline's stack first`,
        { cause: error },
      );
    });
  const definitions = described.Table?.AttributeDefinitions ?? [];
  // DynamoDB lists the partition key first.
  return (described.Table?.KeySchema ?? []).map((k) => ({
    name: String(k.AttributeName),
    type: (definitions.find((d) => d.AttributeName === k.AttributeName)?.AttributeType ??
      'S') as KeyAttribute['type'],
  }));
}

/**
 * Reads a local change file (JSON Lines) against the source table's key (undefined: all checks but the key's).
 *
 * @throws InputError when the file is missing, not JSON Lines, or a line is not a valid write.
 */
export async function readChangeFile(
  path: string,
  key: readonly KeyAttribute[] | undefined,
): Promise<ChangeFile> {
  if (path.startsWith('s3://') || !['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase()))
    throw new InputError(
      `A table source reads a local change file in JSON Lines (.jsonl), one {"put": {item}} or {"delete": {key}} per line (given ${path})`,
    );
  try {
    if (!(await stat(path)).isFile()) throw new InputError(`Input is not a file: ${path}`);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`Input file not found: ${path}`, { cause: error });
  }
  return parseChangeFile(await readFile(path, 'utf8'), key, path);
}

/** Applies the writes to `table` in order; `onProgress` gets the number applied so far. */
export async function applyTableChanges(
  dynamoDb: DynamoDBClient,
  table: string,
  changes: ChangeFile,
  onProgress: (applied: number) => void = () => undefined,
): Promise<void> {
  let applied = 0;
  for (const write of changes.writes) {
    try {
      if ('put' in write)
        await dynamoDb.send(new PutItemCommand({ TableName: table, Item: marshall(write.put) }));
      else await dynamoDb.send(new DeleteItemCommand({ TableName: table, Key: marshall(write.delete) }));
    } catch (error) {
      const { name, message } = error as Error;
      throw new InputError(
        `${changes.file} line ${write.line}: DynamoDB refused the ${'put' in write ? 'put' : 'delete'} on ${table} (${name}: ${message.split('\n')[0]}); the ${applied} ${applied === 1 ? 'write before it was' : 'writes before it were'} applied: fix the line and run again (each run starts the local cloud, and the table, afresh)`,
        { cause: error },
      );
    }
    onProgress(++applied);
  }
}
