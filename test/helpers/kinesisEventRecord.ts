/**
 * The keys of one record of a Lambda Kinesis event, in the order Lambda sends them (what both the local
 * event-source-mapping runtime's unit test and its integration test expect).
 */
export const KINESIS_EVENT_RECORD_KEYS: readonly string[] = [
  'kinesis',
  'eventSource',
  'eventVersion',
  'eventID',
  'eventName',
  'invokeIdentityArn',
  'awsRegion',
  'eventSourceARN',
];
