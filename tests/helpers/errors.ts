/**
 * tests/helpers/errors — asserting on cellar's typed errors: which `CellarError` code a call fails with.
 */
import { CellarError } from '../../kernel-lib/errors.js';

/** Runs `fn` (sync or async) and returns the code of the CellarError it throws, or 'no error'. Other errors fail the test. */
export async function errorCodeOf(fn: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof fn === 'function' ? fn() : fn);
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    return (e as CellarError).code;
  }
  return 'no error';
}

/** Synchronous variant of {@link errorCodeOf}. */
export function errorCodeOfSync(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    return (e as CellarError).code;
  }
  return 'no error';
}

/** Awaits `p`, expects a CellarError with `code`, and returns it. */
export async function expectCellarError(p: Promise<unknown>, code: string): Promise<CellarError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CellarError);
    expect((e as CellarError).code).toBe(code);
    return e as CellarError;
  }
  throw new Error(`expected a CellarError ${code}, but the call succeeded`);
}
