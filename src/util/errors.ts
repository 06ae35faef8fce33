// Error classes that map to the CONTRACT exit codes: 2 usage/config, 3 harness.

/** Bad input from a user: names the field and the fix. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'UsageError';
  }
}

/** The harness could not do its job (a tool failed, a guest hung or crashed). Exit code 3. */
export class HarnessError extends Error {
  readonly exitCode = 3;
  constructor(
    message: string,
    readonly details?: { consoleTail?: string; logPath?: string; cause?: unknown },
  ) {
    super(message);
    this.name = 'HarnessError';
  }
}

/** A wait that ran out of time. Says what it waited for. */
export class DeadlineError extends HarnessError {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`timed out after ${ms} ms waiting for ${what}`);
    this.name = 'DeadlineError';
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof HarnessError) return err.exitCode;
  return 3;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
