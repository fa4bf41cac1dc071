/**
 * The upgrade check as the stack deploys it: a CloudFormation custom resource (`Custom::ShardflowUpgradeCheck`)
 * whose properties carry the new definition's state shape, fingerprint and allowed lateness, and the user's
 * choice for open windows. CloudFormation runs it whenever they change, before the pipeline's functions update
 * (`lib/constructs/UpgradeCheck.ts`); the local deployer runs it the same way. Its properties arrive as text
 * from the template and are read as hostile input: the shape must be canonical and hash to the fingerprint.
 */
import { StateError } from './errors';
import { parseStateShape, shapeText, stateFingerprint, type StateShape } from './stateFingerprint';
import {
  OPEN_WINDOW_CHOICE,
  type OpenWindowChoice,
  type UpgradeTarget,
  upgradeTargetOf,
} from './upgradeCheck';

/** The custom resource type of the upgrade check (the local deployer runs `Custom::Shardflow*` resources). */
export const UPGRADE_CHECK_RESOURCE_TYPE = 'Custom::ShardflowUpgradeCheck';

/** Property names of the upgrade-check resource. */
export const UPGRADE_CHECK_PROPERTY = {
  /** Canonical JSON of the new definition's state shape (`shapeText`). */
  STATE_SHAPE: 'StateShape',
  /** Its fingerprint (16 hex digits). */
  STATE_FINGERPRINT: 'StateFingerprint',
  /** The new definition's allowed lateness in ms: when its windows close. */
  ALLOWED_LATENESS_MS: 'AllowedLatenessMs',
  /** What to do with open windows an incompatible change cannot carry over (`OPEN_WINDOW_CHOICE`). */
  OPEN_WINDOWS: 'OpenWindows',
} as const;

/** The properties of an upgrade-check resource are not what the construct writes. */
export class UpgradeCheckPropertiesError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UpgradeCheckPropertiesError';
  }
}

const CHOICES: readonly string[] = Object.values(OPEN_WINDOW_CHOICE);

/** Longest allowed lateness the check accepts: a year (`Number.isSafeInteger` bounds are far beyond sense). */
const MAX_LATENESS_MS = 366 * 24 * 3_600_000;

/**
 * The upgrade target and choice the properties of `pipeline`'s upgrade-check resource state.
 * @throws UpgradeCheckPropertiesError naming the property and what it must be.
 */
export function upgradeCheckRequest(
  pipeline: string,
  properties: unknown,
): { readonly target: UpgradeTarget; readonly choice: OpenWindowChoice } {
  const P = UPGRADE_CHECK_PROPERTY;
  const bad = (name: string, must: string): UpgradeCheckPropertiesError =>
    new UpgradeCheckPropertiesError(`Upgrade check of pipeline ${pipeline}: ${name} must be ${must}`);
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties))
    throw bad('the resource properties', 'an object');
  const props = properties as Record<string, unknown>;
  const shapeText = props[P.STATE_SHAPE];
  const stateShape = typeof shapeText === 'string' ? parseStateShape(shapeText) : undefined;
  if (stateShape === undefined) throw bad(P.STATE_SHAPE, 'the canonical JSON of a state shape');
  const fingerprint = props[P.STATE_FINGERPRINT];
  if (typeof fingerprint !== 'string' || fingerprint !== stateFingerprint(stateShape))
    throw bad(P.STATE_FINGERPRINT, `the fingerprint of ${P.STATE_SHAPE} (${stateFingerprint(stateShape)})`);
  // CloudFormation hands every scalar property over as text.
  const lateness = props[P.ALLOWED_LATENESS_MS];
  const allowedLatenessMs =
    typeof lateness === 'string' && /^\d{1,12}$/.test(lateness) ? Number(lateness) : NaN;
  if (!(allowedLatenessMs <= MAX_LATENESS_MS))
    throw bad(P.ALLOWED_LATENESS_MS, `a whole number of milliseconds, 0-${MAX_LATENESS_MS}`);
  const choice = props[P.OPEN_WINDOWS];
  if (typeof choice !== 'string' || !CHOICES.includes(choice))
    throw bad(P.OPEN_WINDOWS, `one of ${CHOICES.join(', ')}`);
  return {
    target: upgradeTargetOf({ pipeline, stateShape, stateFingerprint: fingerprint, allowedLatenessMs }),
    choice: choice as OpenWindowChoice,
  };
}

/** The properties of the upgrade-check resource of a definition (all text, as CloudFormation passes them). */
export function upgradeCheckProperties(definition: {
  readonly stateShape: StateShape;
  readonly allowedLatenessMs: number;
  readonly choice: OpenWindowChoice;
}): Record<string, string> {
  return {
    [UPGRADE_CHECK_PROPERTY.STATE_SHAPE]: shapeText(definition.stateShape),
    [UPGRADE_CHECK_PROPERTY.STATE_FINGERPRINT]: stateFingerprint(definition.stateShape),
    [UPGRADE_CHECK_PROPERTY.ALLOWED_LATENESS_MS]: String(definition.allowedLatenessMs),
    [UPGRADE_CHECK_PROPERTY.OPEN_WINDOWS]: definition.choice,
  };
}
