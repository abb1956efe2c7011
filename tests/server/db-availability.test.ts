import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { databaseAvailability, databaseFailure, unavailableCode } from '../../server/db/availability.js'

/** The driver's class of errors the server sent; its constructor takes the parsed fields (its typings say a message). */
const ServerError = postgres.PostgresError as unknown as new (fields: { code: string; message: string }) => Error
/** An error as the server sends it (SQLSTATE). */
const fromServer = (code: string) => new ServerError({ code, message: `server says ${code}` })
/** A socket error as the driver hands it to the query it was running (it marks them with the query's text). */
const fromSocket = (code: string, syscall: string) => Object.defineProperty(Object.assign(new Error(`${syscall} ${code}`), { code, errno: -1, syscall }), 'query', { value: 'select 1' })

describe('which failures are the database\'s', () => {
  it('names a server that cannot be reached, one lost under a query and a statement cut off by its time limit', () => {
    expect(databaseFailure(fromSocket('ECONNREFUSED', 'connect'))).toBe('unreachable')
    expect(databaseFailure(fromSocket('ENOTFOUND', 'getaddrinfo'))).toBe('unreachable')
    expect(databaseFailure(fromSocket('ECONNRESET', 'read'))).toBe('lost')
    // A write after the server closed the socket: Node gives the code and no system call.
    const writeAfterEnd = Object.defineProperty(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }), 'query', { value: 'select 1' })
    expect(databaseFailure(writeAfterEnd)).toBe('lost')
    expect(databaseFailure(Object.assign(new Error('write CONNECT_TIMEOUT'), { code: 'CONNECT_TIMEOUT' }))).toBe('unreachable')
    expect(databaseFailure(Object.assign(new Error('gate'), { code: unavailableCode }))).toBe('unreachable')
    for (const code of ['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED']) {
      expect(databaseFailure(Object.assign(new Error(code), { code })), code).toBe('lost')
    }
    for (const code of ['57P03', '53300', '08001', '08004']) expect(databaseFailure(fromServer(code)), code).toBe('unreachable')
    for (const code of ['57P01', '57P02', '08006', '08003']) expect(databaseFailure(fromServer(code)), code).toBe('lost')
    for (const code of ['57014', '55P03']) expect(databaseFailure(fromServer(code)), code).toBe('timeout')
  })

  it('leaves the request\'s own failures alone: refused data, a protocol bug, a client that hung up', () => {
    for (const code of ['23505', '23514', '22P02', '42P01', '08P01']) expect(databaseFailure(fromServer(code)), code).toBeUndefined()
    // The same socket code from a socket that is not the database's (no query attached).
    expect(databaseFailure(Object.assign(new Error('aborted'), { code: 'ECONNRESET', syscall: 'read' }))).toBeUndefined()
    expect(databaseFailure(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }))).toBeUndefined()
    expect(databaseFailure(new Error('plain'))).toBeUndefined()
    expect(databaseFailure('a string')).toBeUndefined()
  })
})

describe('the availability gate', () => {
  it('closes on a failure to connect, probes, and opens again as soon as a probe answers', async () => {
    let answers = false
    let probes = 0
    const gate = databaseAvailability(async () => {
      probes++
      if (!answers) throw new Error('still down')
    }, 10)
    const changes: boolean[] = []
    gate.onChange(available => changes.push(available))
    try {
      gate.report(fromSocket('ECONNREFUSED', 'connect'))
      expect(gate.available).toBe(false)
      expect(gate.downSince).toBeTypeOf('number')
      await new Promise(r => setTimeout(r, 60))
      expect(gate.available).toBe(false)
      expect(probes).toBeGreaterThanOrEqual(2)
      answers = true
      await expect.poll(() => gate.available, { timeout: 1000, interval: 5 }).toBe(true)
      expect(gate.downSince).toBeNull()
      expect(changes).toEqual([false, true])
    }
    finally {
      gate.close()
    }
  })

  it('stays open on a lost connection or a timeout: the next attempt decides', () => {
    const gate = databaseAvailability(async () => {})
    try {
      gate.report(fromServer('57P01'))
      gate.report(fromServer('57014'))
      gate.report(fromServer('23505'))
      expect(gate.available).toBe(true)
    }
    finally {
      gate.close()
    }
  })
})
