/**
 * How a promise settled: 'served', 'failed <code>' (the driver's error code, else the error), or
 * 'hung' when it did not within 5 s. The statements it waits for take milliseconds: a driver that
 * lost track of a connection leaves them waiting forever.
 */
export function settled(p: Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.then(() => 'served', (e: { code?: string }) => `failed ${e.code ?? String(e)}`),
    new Promise<string>((resolve) => { timer = setTimeout(resolve, 5000, 'hung') }),
  ]).finally(() => clearTimeout(timer))
}
