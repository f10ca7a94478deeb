/** Polls `condition` every 10 ms until it holds; rejects with `what` after `withinMs`. */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  withinMs = 5000,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
