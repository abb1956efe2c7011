import { encryptIdNumbers, hmacIdNumber, type PiiKeys } from '../domain/pii.js'
import type { Batch } from './load.js'

/** The column arrays of one batch, as they cross to the worker thread. */
export type BatchData = { [T in keyof Batch]: Batch[T]['data'] }

/**
 * One batch in COPY's text format, table by table, in chunks of a few thousand rows: its hazards'
 * histories too (hazard_event: found, referred, rectified and verified, the ones that happened, in
 * the order they happened).
 */
export type BatchText = { [T in keyof Batch]: Chunk[] } & { history: Chunk[] }

/**
 * COPY data as UTF-8, each chunk in a buffer of its own: handed to the main thread by transfer
 * rather than copied (the text of 10,000 premises is some 25 MB, most of it two-byte strings), and
 * written to the socket as it is instead of being encoded there.
 */
type Chunk = Uint8Array
const encoder = new TextEncoder()

/** The buffers of a batch's text, to transfer with it. */
export function transferList(text: BatchText): ArrayBuffer[] {
  return [...new Set(Object.values(text).flat().map(c => c.buffer as ArrayBuffer))]
}

type Value = string | number | boolean | null

/** A value in COPY's text format. */
function t(v: Value | undefined): string {
  if (v === null || v === undefined) return '\\N'
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (typeof v === 'number') return String(v)
  return v.replace(/[\\\t\n\r]/g, c => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}

const line = (...cells: string[]) => cells.join('\t')
const point = (lon: Value | undefined, lat: Value | undefined) => `SRID=4326;POINT(${String(lon)} ${String(lat)})`
/** bytea in hex, its backslash doubled for COPY. */
const bytes = (b: Buffer) => `\\\\x${b.toString('hex')}`

const postgresEpochSeconds = 946_684_800

/**
 * A time given in milliseconds as to_timestamp(ms / 1000.0) stores it, in microseconds since 1970:
 * rounded half to even from the same floating-point seconds, so that both loads store one instant.
 */
export function unixMicros(ms: unknown): number | null {
  if (ms === null || ms === undefined) return null
  const x = (Number(ms) / 1000 - postgresEpochSeconds) * 1e6
  let us = Math.round(x)
  if (us - x === 0.5 && us % 2 !== 0) us -= 1
  return us + postgresEpochSeconds * 1_000_000
}

/** A time given in milliseconds, written as to_timestamp(ms / 1000.0) makes it (unixMicros). */
function timestamp(ms: Value | undefined): string {
  const unixUs = unixMicros(ms)
  if (unixUs === null) return '\\N'
  return microsText(unixUs)
}

/** A time in microseconds since 1970, in COPY's text for timestamptz. */
function microsText(unixUs: number): string {
  const whole = Math.floor(unixUs / 1000)
  return `${new Date(whole).toISOString().slice(0, 23)}${String(unixUs - whole * 1000).padStart(3, '0')}+00`
}

/** Rows joined into chunks of COPY data, a few thousand rows each. */
function chunks(n: number, line: (i: number) => string): Chunk[] {
  const out: Chunk[] = []
  for (let i = 0; i < n; i += 4096) {
    let s = ''
    for (let j = i; j < Math.min(n, i + 4096); j++) s += `${line(j)}\n`
    out.push(encoder.encode(s))
  }
  return out
}

const historyStatuses = ['found', 'referred', 'rectified', 'verified'] as const

/**
 * One hazard's rows of hazard_event (hazard id, status, at, department), one line each, as the seed's
 * insert writes them from the hazard row: each step that happened, by time (the department with the
 * referral).
 */
function history(hd: BatchData['H'], i: number): string {
  const steps: { status: typeof historyStatuses[number]; us: number }[] = []
  const times = [hd.found[i], hd.referred[i], hd.rectified[i], hd.verified[i]]
  for (const [k, status] of historyStatuses.entries()) {
    const us = unixMicros(times[k])
    if (us !== null) steps.push({ status, us })
  }
  steps.sort((a, b) => a.us - b.us)
  const id = t(hd.id[i])
  return steps.map(s => line(id, s.status, microsText(s.us), s.status === 'referred' ? t(hd.department[i]) : '\\N')).join('\n')
}

/** The COPY text of one batch: ID numbers sealed and keyed here, so the text holds no number in clear. */
export function batchText(keys: PiiKeys, { P: pd, R: rd, F: fd, H: hd, E: ed }: BatchData): BatchText {
  const numbers = rd.idNumber as string[]
  const cipher = encryptIdNumbers(keys, numbers)
  return {
    P: chunks(pd.id.length, i => line(t(pd.id[i]), t(pd.kind[i]), t(pd.address[i]), point(pd.lon[i], pd.lat[i]), t(pd.town[i]), t(pd.community[i]),
      t(pd.grid[i]), t(pd.station[i]), t(pd.rooms[i]), t(pd.beds[i]), t(pd.occupants[i]), t(pd.ownerName[i]), t(pd.ownerPhone[i]),
      t(pd.slName[i]), t(pd.slPhone[i]), t(pd.slCollected[i]), t(pd.statement[i]), t(pd.lease[i]), t(pd.found[i]), t(pd.registered[i]),
      t(pd.deregistered[i]), t(pd.hazards[i]), t(pd.open[i]), t(pd.openMajor[i]), t(pd.openMinDeadline[i]), t(pd.grSince[i]),
      t(pd.firstPsFound[i]), t(pd.firstFireFound[i]), t(pd.firstHousingFound[i]), t(pd.firstOtherFound[i]))),
    R: chunks(rd.id.length, i => line(t(rd.id[i]), t(rd.premises[i]), t(rd.name[i]), t(rd.idType[i]), bytes(cipher[i]!), bytes(hmacIdNumber(keys, numbers[i]!)),
      t(rd.masked[i]), t(rd.phone[i]), t(rd.floating[i]), t(rd.movedIn[i]), t(rd.movedOut[i]), t(rd.registered[i]), t(rd.deregistered[i]))),
    F: chunks(fd.resident.length, i => line(t(fd.resident[i]), t(fd.category[i]), t(fd.flagged[i]))),
    H: chunks(hd.id.length, i => line(t(hd.id[i]), t(hd.premises[i]), t(hd.item[i]), t(hd.text[i]), t(hd.severity[i]), t(hd.status[i]),
      t(hd.department[i]), timestamp(hd.found[i]), timestamp(hd.referred[i]), timestamp(hd.rectified[i]), timestamp(hd.verified[i]),
      t(hd.deadline[i]))),
    history: chunks(hd.id.length, i => history(hd, i)),
    E: chunks(ed.kind.length, i => line(t(ed.kind[i]), t(ed.day[i]), t(ed.count[i]), t(ed.premises[i]), point(ed.lon[i], ed.lat[i]),
      t(ed.town[i]), t(ed.station[i]))),
  }
}
