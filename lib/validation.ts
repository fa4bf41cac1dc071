import { Duration, Token } from 'aws-cdk-lib';
import { ValidationError } from './errors';

/**
 * Collects prop problems so that one validation pass reports all of them at once (the way AWS
 * Solutions Constructs do), in aws-cdk-lib's wording. Unresolved tokens are skipped: their value
 * is only known at deploy time.
 */
export class Problems {
  private readonly found: string[] = [];

  /** Every problem recorded so far. */
  public get all(): readonly string[] {
    return this.found;
  }

  /** Records `message` when `failed` is true. */
  public check(failed: boolean, message: string): this {
    if (failed) this.found.push(message);
    return this;
  }

  /** Adds problems collected elsewhere (e.g. by a construct's own validator). */
  public addAll(problems: readonly string[]): this {
    this.found.push(...problems);
    return this;
  }

  /** `<label> must be between <min> and <max> inclusive (given <value>)`, integers only. */
  public integerRange(label: string, value: number | undefined, min: number, max: number): this {
    if (value === undefined || Token.isUnresolved(value)) return this;
    return this.check(
      !Number.isInteger(value) || value < min || value > max,
      `${label} must be between ${min} and ${max} inclusive (given ${value})`,
    );
  }

  /** Like {@link integerRange} for a duration, compared in whole seconds. */
  public durationRange(label: string, value: Duration | undefined, min: Duration, max: Duration): this {
    if (value === undefined || value.isUnresolved()) return this;
    const seconds = value.toSeconds({ integral: false });
    return this.check(
      seconds < min.toSeconds() || seconds > max.toSeconds(),
      `${label} must be between ${min.toHumanString()} and ${max.toHumanString()} inclusive (given ${value.toHumanString()})`,
    );
  }

  /** Checks a name against a pattern, with a description of what the pattern allows. */
  public pattern(label: string, value: string | undefined, re: RegExp, allowed: string): this {
    if (value === undefined || Token.isUnresolved(value)) return this;
    return this.check(!re.test(value), `${label} must be ${allowed} (given '${value}')`);
  }

  /** Throws one {@link ValidationError} listing every problem, if there is any. */
  public throwIfAny(subject: string): void {
    if (this.found.length > 0) throw new ValidationError(subject, this.found);
  }
}
