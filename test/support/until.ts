/**
 * Waits for `check` to hold, asking again every `intervalMs`, and fails naming `what` once `timeoutMs` has
 * passed: the bounded wait for something a test cannot be told about by an event.
 */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
