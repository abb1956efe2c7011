/** Waits until `check` holds, at most 10 s: an announcement from the database arrives on a connection of its own. */
export async function eventually(check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > until) throw new Error('not within 10 s')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
