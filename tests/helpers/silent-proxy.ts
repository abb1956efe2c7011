import { connect, createServer, type Socket } from 'node:net'

/** A TCP proxy on loopback that can make the server behind it vanish the way a lost host does. */
export interface SilentProxy {
  /** The proxy's port: point a client here instead of at the server. */
  port: number
  /**
   * From now on the server is gone: open connections are reset, new ones are accepted and never
   * answered (a host that dropped off the network, a firewall swallowing packets).
   */
  silence: () => void
  /** Passes connections through to the server again. */
  restore: () => void
  close: () => Promise<void>
}

/** Forwards 127.0.0.1:<port> to the given server until told to fall silent. */
export async function startSilentProxy(targetPort: number): Promise<SilentProxy> {
  let silent = false
  const open = new Set<Socket>()
  const server = createServer((client) => {
    open.add(client)
    client.on('close', () => open.delete(client))
    client.on('error', () => undefined)
    if (silent) return
    const upstream = connect(targetPort, '127.0.0.1')
    open.add(upstream)
    upstream.on('close', () => open.delete(upstream))
    upstream.on('error', () => client.resetAndDestroy())
    client.on('error', () => upstream.destroy())
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    silence: () => {
      silent = true
      for (const s of open) s.resetAndDestroy()
    },
    // Connections left hanging while silent stay so: the client gives up on them itself (its connect timeout).
    restore: () => {
      silent = false
    },
    close: async () => {
      for (const s of open) s.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    },
  }
}
