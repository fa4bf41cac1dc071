/**
 * The stack outputs a deployed pipeline is found by: the constructs write them, the CLI (`send`, `status`,
 * `replay-failures`, `deploy --drain`) reads them from the outputs file. One rule for both sides, so a
 * pipeline name with `_` or digits resolves to the output its construct wrote.
 */

/** `flight-delays` → `FlightDelays`, `orders_v2` → `OrdersV2`: output ids are alphanumeric. */
export function pascal(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** The outputs of one pipeline: its source stream, the on-failure prefix, its operator and tick functions. */
export const PIPELINE_OUTPUTS = {
  stream: (pipeline: string): string => `StreamName${pascal(pipeline)}`,
  failurePrefix: (pipeline: string): string => `FailurePrefix${pascal(pipeline)}`,
  operatorFunction: (pipeline: string): string => `OperatorFunction${pascal(pipeline)}`,
  tickFunction: (pipeline: string): string => `TickFunction${pascal(pipeline)}`,
} as const;
