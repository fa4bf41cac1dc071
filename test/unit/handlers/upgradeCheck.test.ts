import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { count, sum } from '../../../functions/core/dsl';
import { ENV } from '../../../functions/core/constants';
import { InMemoryObjectStore } from '../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../functions/core/state/InMemoryStateStore';
import { OPEN_WINDOW_CHOICE, type OpenWindowChoice } from '../../../functions/core/state/upgradeCheck';
import {
  UPGRADE_CHECK_PROPERTY,
  UPGRADE_CHECK_RESOURCE_TYPE,
  upgradeCheckProperties,
} from '../../../functions/core/state/upgradeCheckResource';
import type { StatefulPipeline } from '../../../functions/core/state/types';
import { upgradeCheckHandler } from '../../../functions/handlers/upgradeCheckHandler';
import { processor, records, rows, views } from '../../helpers/stateShapeContract';

const PIPELINE = 'p';
const env = { [ENV.PIPELINE]: PIPELINE, [ENV.STATE_TABLE]: 'state' };

/** A store where `{ n: count() }` committed records 1..6: window T0 is open. */
async function openState() {
  const store = new InMemoryStateStore();
  const objects = new InMemoryObjectStore();
  await processor(store, objects, views(PIPELINE, { n: count() })).apply(records(1, 6));
  return { store, objects };
}

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  properties: Record<string, string>,
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:check',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/r',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Check',
    ResourceType: UPGRADE_CHECK_RESOURCE_TYPE,
    ResourceProperties: {
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:check',
      ...properties,
    },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update')
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: 'Check-upgrade-check',
      OldResourceProperties: common.ResourceProperties,
    };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: 'Check-upgrade-check' };
}

const propertiesOf = (def: StatefulPipeline, choice: OpenWindowChoice = OPEN_WINDOW_CHOICE.NONE) =>
  upgradeCheckProperties({
    stateShape: def.stateShape,
    allowedLatenessMs: def.spec.time.allowedLatenessMs,
    choice,
  });

/** Runs the handler once over `store`; returns the one response it sent. */
async function run(store: InMemoryStateStore, e: CloudFormationCustomResourceEvent) {
  const sent: { url: string; response: CloudFormationCustomResourceResponse }[] = [];
  await upgradeCheckHandler(env, {
    store: () => store,
    respond: async (url, response) => {
      sent.push({ url, response });
    },
  })(e);
  expect(sent).toHaveLength(1);
  expect(sent[0]!.url).toBe(e.ResponseURL);
  return sent[0]!.response;
}

describe('upgrade-check custom resource handler', () => {
  test('when the new definition is incompatible under open windows, it answers FAILED with the one-line refusal naming how to choose, and the state is untouched', async () => {
    const { store } = await openState();
    const before = store.tables.items();
    const response = await run(
      store,
      event('Update', propertiesOf(views(PIPELINE, { n: sum((v) => v.ms) }))),
    );
    expect(response).toEqual({
      Status: 'FAILED',
      Reason:
        'pipeline p: incompatible change under 1 open window (aggregate n changed from count to sum); wait until they close, or deploy again with -c shardflow:openWindows=discard to drop them, or with shardflow deploy --drain to emit them first',
      PhysicalResourceId: 'Check-upgrade-check',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1',
      RequestId: 'req-1',
      LogicalResourceId: 'Check',
    });
    expect(store.tables.items()).toEqual(before);
  });

  test('when the user chose to discard open windows, it drops them and answers SUCCESS; the new definition then starts afresh', async () => {
    const { store, objects } = await openState();
    const next = views(PIPELINE, { n: sum((v) => v.ms) });
    const response = await run(store, event('Create', propertiesOf(next, OPEN_WINDOW_CHOICE.DISCARD)));
    expect(response).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'Check-upgrade-check',
      Data: {
        Outcome:
          'p: incompatible (aggregate n changed from count to sum); discarded 1 open windows on 1 shards',
      },
    });
    const after = processor(store, objects, next);
    await after.apply(records(7, 8));
    await after.tick(Infinity);
    expect(rows(objects).map((r) => [r.user, r.n])).toEqual([
      ['u0', 8],
      ['u1', 7],
    ]);
  });

  test('when the change is compatible or evolvable, or nothing is open, it answers SUCCESS saying so', async () => {
    const { store } = await openState();
    const outcome = async (def: StatefulPipeline, s = store) =>
      ((await run(s, event('Update', propertiesOf(def)))) as { Data?: { Outcome?: string } }).Data?.Outcome;
    expect(await outcome(views(PIPELINE, { n: count() }, (v) => v.ms > 2))).toBe(
      'p: compatible with 1 open windows',
    );
    expect(await outcome(views(PIPELINE, { n: count(), total: sum((v) => v.ms) }))).toBe(
      'p: evolvable; total start from their identity in 1 open windows (named in evolved_columns)',
    );
    expect(await outcome(views(PIPELINE, { n: sum((v) => v.ms) }), new InMemoryStateStore())).toBe(
      'p: no open windows',
    );
  });

  test('when the request is a Delete, it answers SUCCESS without reading the state', async () => {
    const store = new InMemoryStateStore();
    const response = await run(store, event('Delete', {}));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'Check-upgrade-check' });
    expect(store.stats.requests).toBe(0);
  });

  test.each([
    [
      'a shape that is not canonical JSON',
      { [UPGRADE_CHECK_PROPERTY.STATE_SHAPE]: '{"version":1}' },
      'StateShape must be the canonical JSON of a state shape',
    ],
    [
      'a fingerprint of another shape',
      { [UPGRADE_CHECK_PROPERTY.STATE_FINGERPRINT]: 'ffffffffffffffff' },
      'StateFingerprint must be the fingerprint of StateShape',
    ],
    [
      'a negative lateness',
      { [UPGRADE_CHECK_PROPERTY.ALLOWED_LATENESS_MS]: '-1' },
      'AllowedLatenessMs must be a whole number of milliseconds',
    ],
    [
      'an unknown choice',
      { [UPGRADE_CHECK_PROPERTY.OPEN_WINDOWS]: 'keep' },
      'OpenWindows must be one of none, discard-open-windows',
    ],
  ])(
    'when the properties hold %s, it answers FAILED naming the property and changes nothing',
    async (_what, override, message) => {
      const { store } = await openState();
      const before = store.tables.items();
      const response = await run(
        store,
        event('Create', {
          ...propertiesOf(views(PIPELINE, { n: sum((v) => v.ms) }), OPEN_WINDOW_CHOICE.DISCARD),
          ...override,
        }),
      );
      expect(response.Status).toBe('FAILED');
      expect((response as { Reason: string }).Reason).toContain(
        `upgrade check failed: Upgrade check of pipeline p: ${message}`,
      );
      expect(store.tables.items()).toEqual(before);
    },
  );

  test('when the handler has no pipeline configured, it still answers (FAILED) instead of leaving CloudFormation waiting', async () => {
    const sent: CloudFormationCustomResourceResponse[] = [];
    await upgradeCheckHandler(
      {},
      { store: () => new InMemoryStateStore(), respond: async (_u, r) => void sent.push(r) },
    )(event('Create', propertiesOf(views(PIPELINE, { n: count() }))));
    expect(sent).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Reason: expect.stringContaining('SHARDFLOW_PIPELINE and SHARDFLOW_STATE_TABLE must be set'),
      }),
    ]);
  });
});
