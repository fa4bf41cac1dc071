import { runCustomResources } from '../../../../localstack/deployer/customResources';
import { CustomResourceFailedError } from '../../../../localstack/deployer/errors';
import { planDeployment } from '../../../../localstack/deployer/planDeployment';
import type { EventInvoker } from '../../../../localstack/deployer/ScheduleRunner';
import type { CfnTemplate } from '../../../../localstack/deployer/types';
import type { InvocationOutcome } from '../../../../localstack/eventSourceMapping/types';

const fn = (logicalId: string) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Handler: 'index.handler', Code: { S3Key: `${logicalId}.zip` }, Timeout: 60 },
});
const template: CfnTemplate = {
  Resources: {
    CheckFunction: fn('CheckFunction'),
    Check: {
      Type: 'Custom::ShardflowUpgradeCheck',
      Properties: {
        ServiceToken: { 'Fn::GetAtt': ['CheckFunction', 'Arn'] },
        StateFingerprint: 'abc',
        Limit: 5,
      },
    },
    Elsewhere: {
      Type: 'Custom::ShardflowUpgradeCheck',
      Properties: { ServiceToken: 'arn:aws:lambda:x:1:function:other' },
    },
    AutoDelete: {
      Type: 'Custom::S3AutoDeleteObjects',
      Properties: { ServiceToken: { 'Fn::GetAtt': ['CheckFunction', 'Arn'] } },
    },
  },
};
const plan = planDeployment(
  template,
  { stackName: 'S', region: 'eu-west-1' },
  ({ logicalId }) => `/bundles/${logicalId}`,
);

/** An invoker whose function answers `answer` (or nothing) on the request's response URL; records the events. */
function invoker(
  answer: ((event: Record<string, unknown>) => unknown) | undefined,
  outcome?: InvocationOutcome,
) {
  const events: Record<string, unknown>[] = [];
  const double: EventInvoker = {
    invokeEvent: async (_fn, event) => {
      const e = event as Record<string, unknown>;
      events.push(e);
      if (answer !== undefined)
        await fetch(String(e['ResponseURL']), {
          method: 'PUT',
          body: Buffer.from(JSON.stringify(answer(e))),
        });
      return outcome ?? { ok: true, payload: null };
    },
  };
  return { double, events };
}

describe('custom resources on the local deployer', () => {
  test("when planned, shardflow's custom resource served by a function of the stack is run, one with a foreign service token is unsupported, and CDK's own are ignored", () => {
    expect(plan.customResources).toEqual([
      {
        logicalId: 'Check',
        type: 'Custom::ShardflowUpgradeCheck',
        functionName: plan.functions[0]!.functionName,
        serviceToken: plan.functions[0]!.functionArn,
        properties: { StateFingerprint: 'abc', Limit: 5 },
      },
    ]);
    expect(plan.unsupported).toEqual([
      expect.objectContaining({
        logicalId: 'Elsewhere',
        reason: expect.stringContaining('not a function of this stack'),
      }),
    ]);
    expect(plan.ignored).toEqual([expect.objectContaining({ logicalId: 'AutoDelete' })]);
  });

  test('when the function answers SUCCESS, the deploy goes on; it got a CloudFormation Create request with its properties as text', async () => {
    const { double, events } = invoker((e) => ({ Status: 'SUCCESS', RequestId: e['RequestId'] }));
    await runCustomResources(plan, double);
    expect(events).toEqual([
      expect.objectContaining({
        RequestType: 'Create',
        LogicalResourceId: 'Check',
        ResourceType: 'Custom::ShardflowUpgradeCheck',
        StackId: 'arn:aws:cloudformation:eu-west-1:000000000000:stack/S/local',
        ResourceProperties: {
          ServiceToken: plan.functions[0]!.functionArn,
          StateFingerprint: 'abc',
          Limit: '5',
        },
        ResponseURL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
      }),
    ]);
  });

  test('when the function answers FAILED, the deploy stops with its reason', async () => {
    const { double } = invoker(() => ({ Status: 'FAILED', Reason: 'pipeline p: incompatible change' }));
    const failed = await runCustomResources(plan, double).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(CustomResourceFailedError);
    expect((failed as Error).message).toBe(
      'Check (Custom::ShardflowUpgradeCheck) failed: pipeline p: incompatible change',
    );
  });

  test('when the function answers nothing, or crashes before answering, the deploy stops saying so', async () => {
    await expect(runCustomResources(plan, invoker(undefined).double)).rejects.toThrow(
      'Check (Custom::ShardflowUpgradeCheck) failed: the function answered nothing',
    );
    const crashed = invoker(undefined, {
      ok: false,
      functionError: 'Unhandled',
      errorType: 'Error',
      errorMessage: 'boom',
    });
    await expect(runCustomResources(plan, crashed.double)).rejects.toThrow(
      'failed: the function failed without answering (Error: boom)',
    );
  });
});
