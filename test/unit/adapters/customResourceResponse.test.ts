import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { customResourceResponse } from '../../../functions/adapters/customResourceResponse';

const common = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:check',
  ResponseURL: 'https://example/r',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1',
  RequestId: 'req-1',
  LogicalResourceId: 'Check',
  ResourceType: 'Custom::ShardflowUpgradeCheck',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:check' },
};
const create: CloudFormationCustomResourceEvent = { ...common, RequestType: 'Create' };
const update: CloudFormationCustomResourceEvent = {
  ...common,
  RequestType: 'Update',
  PhysicalResourceId: 'kept',
  OldResourceProperties: common.ResourceProperties,
};

describe('custom resource response', () => {
  test('when a Create succeeds, it names the new physical id; an Update keeps the one it has', () => {
    expect(customResourceResponse(create, 'new-id', { ok: true, data: { Outcome: 'fine' } })).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'new-id',
      StackId: common.StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'Check',
      Data: { Outcome: 'fine' },
    });
    expect(customResourceResponse(update, 'new-id', { ok: true })).toMatchObject({
      PhysicalResourceId: 'kept',
    });
  });

  test('when it fails with a long reason over several lines, the reason is one line cut below the 4 KB response limit', () => {
    const reason = `first line\n  second line ${'x'.repeat(3000)}`;
    const response = customResourceResponse(update, 'new-id', { ok: false, reason });
    expect(response.Status).toBe('FAILED');
    const sent = (response as { Reason: string }).Reason;
    expect(sent.startsWith('first line second line x')).toBe(true);
    expect(sent).not.toContain('\n');
    expect(sent).toHaveLength(1000);
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThan(4096);
  });
});
