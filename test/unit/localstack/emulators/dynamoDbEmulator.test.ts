import {
  dynamoDbEmulatorKind,
  startDynamoDbEmulator,
} from '../../../../localstack/emulators/dynamoDbEmulator';
import { LocalCloudError } from '../../../../localstack/emulators/errors';

describe('dynamoDbEmulatorKind', () => {
  it('when nothing is configured, it picks DynamoDB Local', () => {
    expect(dynamoDbEmulatorKind(undefined)).toBe('dynamodb-local');
    expect(dynamoDbEmulatorKind('')).toBe('dynamodb-local');
  });

  it('when dynalite is asked for, it picks dynalite', () => {
    expect(dynamoDbEmulatorKind('dynalite')).toBe('dynalite');
  });

  it('when the value is unknown, it fails naming the allowed values and the given one', () => {
    expect(() => dynamoDbEmulatorKind('localstack')).toThrow(
      new LocalCloudError(
        'SHARDFLOW_DYNAMODB_EMULATOR must be one of dynamodb-local, dynalite (given localstack)',
      ),
    );
  });
});

describe('startDynamoDbEmulator', () => {
  const saved = process.env.SHARDFLOW_DYNAMODB_EMULATOR;
  afterEach(() => {
    if (saved === undefined) delete process.env.SHARDFLOW_DYNAMODB_EMULATOR;
    else process.env.SHARDFLOW_DYNAMODB_EMULATOR = saved;
  });

  it('when the environment names an unknown emulator, it rejects (so startLocalCloud can stop the others) instead of throwing', async () => {
    process.env.SHARDFLOW_DYNAMODB_EMULATOR = 'nope';
    let started: Promise<unknown> | undefined;
    expect(() => {
      started = startDynamoDbEmulator();
    }).not.toThrow();
    await expect(started).rejects.toBeInstanceOf(LocalCloudError);
  });
});
