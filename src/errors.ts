/**
 * The one error family the API raises on purpose. Each carries a stable `code` that clients
 * switch on (it becomes `extensions.code`); everything else is masked by `formatError`.
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "FORBIDDEN"
  | "UNAUTHENTICATED"
  // A caller holds LIVE_MAX_SUBSCRIPTIONS_PER_CALLER open subscriptions already.
  | "TOO_MANY_SUBSCRIPTIONS"
  // A redemption refused by the promotion's rules; the message says which rule.
  | "PROMOTION_NOT_AVAILABLE"
  | "OUTSIDE_SCHEDULE"
  | "MERCHANT_NOT_ELIGIBLE"
  | "SPEND_NOT_ELIGIBLE"
  | "LIMIT_EXCEEDED"
  | "BUDGET_EXHAUSTED"
  | "OUT_OF_STOCK";

/** One thing wrong with one input row: which row (for batches), which field, and why. */
export interface FieldIssue {
  readonly index?: number;
  readonly field: string;
  readonly reason: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Rejected input; lists every bad field of every bad row so a caller can fix them in one go. */
export class BadInputError extends AppError {
  constructor(issues: readonly FieldIssue[]) {
    super("BAD_USER_INPUT", describeIssues(issues), issues);
  }

  static single(field: string, reason: string): BadInputError {
    return new BadInputError([{ field, reason }]);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, key: string, field?: string) {
    super("NOT_FOUND", `${field ? `${field}: ` : ""}no ${what} with code "${key}"`, field ? [{ field, reason: `unknown ${what}` }] : []);
  }
}

/** No valid bearer token where one is needed; the message says what was wrong with it. */
export class UnauthenticatedError extends AppError {
  constructor(reason: string) {
    super("UNAUTHENTICATED", `Not authenticated: ${reason}`);
  }
}

/** The caller's role or unit does not reach this; `issues` name the refused rows of a batch. */
export class ForbiddenError extends AppError {
  constructor(message = "Forbidden: your role or unit does not give access to this", issues: readonly FieldIssue[] = []) {
    super("FORBIDDEN", message, issues);
  }
}

function describeIssues(issues: readonly FieldIssue[]): string {
  const shown = issues.slice(0, 10).map((i) => `${i.index === undefined ? "" : `input[${i.index}].`}${i.field}: ${i.reason}`);
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : "";
  return `Invalid input: ${shown.join("; ")}${more}`;
}

/** Collects issues while validating a batch, then throws them all at once. */
export class IssueCollector {
  readonly issues: FieldIssue[] = [];

  add(index: number | undefined, field: string, reason: string): void {
    this.issues.push(index === undefined ? { field, reason } : { index, field, reason });
  }

  throwIfAny(): void {
    if (this.issues.length > 0) {
      throw new BadInputError([...this.issues].sort((a, b) => (a.index ?? -1) - (b.index ?? -1)));
    }
  }
}
