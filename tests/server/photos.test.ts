import { randomUUID } from 'node:crypto'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, signIn, type TestApp } from '../helpers/app.js'
import { insertAfterPhoto, photoFixture, uploadPhoto } from '../helpers/photos.js'

let t: TestApp
const cookies: Record<string, string> = {}
/** Premises with a hazard inside the inspector's town and outside it. */
const ids = { premisesIn: 0, premisesOut: 0, hazardOut: 0 }
const phone = photoFixture('hazard-gps.jpg')

beforeAll(async () => {
  t = await buildTestApp()
  for (const u of ['inspector', 'commander', 'leader', 'analyst', 'admin']) cookies[u] = await signIn(t.app, u)
  const sql = t.db.sql
  const [town] = await sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`
  ids.premisesIn = (await sql<{ id: number }[]>`select id from premises where town_id = ${town!.id} order by id limit 1`)[0]!.id
  const [out] = await sql<{ id: number; premisesId: number }[]>`
    select h.id, h.premises_id from hazard h join premises p on p.id = h.premises_id where p.town_id <> ${town!.id} order by h.id limit 1`
  ids.hazardOut = out!.id
  ids.premisesOut = out!.premisesId
})
afterAll(() => t.close())

/** A second inspector of the same town, signed in. */
async function colleague(): Promise<string> {
  if (!cookies.colleague) {
    const [town] = await t.db.sql<{ id: number }[]>`select jurisdiction_town_id as id from app_user where username = 'inspector'`
    const res = await t.app.inject({
      method: 'POST', url: '/api/users', headers: { cookie: cookies.admin! },
      payload: { username: 'colleague', displayName: '同事', role: 'inspector', jurisdiction: { kind: 'town', id: town!.id }, password: 'another-long-secret' },
    })
    expect(res.statusCode, res.body).toBe(201)
    cookies.colleague = await signIn(t.app, 'colleague', 'another-long-secret')
  }
  return cookies.colleague
}

async function newHazard(status: 'found' | 'rectified' = 'found'): Promise<number> {
  const res = await t.app.inject({ method: 'POST', url: `/api/premises/${ids.premisesIn}/hazards`, headers: { cookie: cookies.inspector! }, payload: { itemCode: 'FIRE-06', severity: 'general' } })
  expect(res.statusCode, res.body).toBe(201)
  const id = res.json().id as number
  if (status === 'rectified') expect((await t.app.inject({ method: 'POST', url: `/api/hazards/${id}/rectify`, headers: { cookie: cookies.inspector! }, payload: {} })).statusCode).toBe(200)
  return id
}

const rows = async () => (await t.db.sql<{ n: number }[]>`select count(*)::int as n from photo`)[0]!.n

describe('uploading a photo', () => {
  it('stores a phone photo re-encoded as a JPEG at most 2048 pixels long, upright, with no EXIF, GPS or text of the original left', async () => {
    const res = await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone)
    expect(res.statusCode, res.body).toBe(201)
    const photo = res.json()
    expect(photo).toMatchObject({ premisesId: ids.premisesIn, hazardId: null, stage: 'premises', width: 2048, height: 1536, createdBy: 'inspector' })
    const [row] = await t.db.sql<{ image: Buffer; thumb: Buffer; sourceType: string; sourceBytes: number }[]>`select image, thumb, source_type, source_bytes from photo where id = ${photo.id}`
    expect(row).toMatchObject({ sourceType: 'jpeg', sourceBytes: phone.length })
    // The original carries these in its EXIF; none of its bytes may reach the database.
    for (const marker of ['GRD-EXIF-MARKER', 'GPS-MARKER-MODEL', 'TestPhone', 'Exif']) {
      expect(row!.image.includes(marker), marker).toBe(false)
      expect(row!.thumb.includes(marker), marker).toBe(false)
    }
    const meta = await sharp(row!.image).metadata()
    expect(meta).toMatchObject({ format: 'jpeg', width: 2048, height: 1536 })
    expect(meta.exif).toBeUndefined()
    const thumb = await sharp(row!.thumb).metadata()
    expect(Math.max(thumb.width!, thumb.height!)).toBe(320)
    // The image served is the stored one.
    const served = await t.app.inject({ url: photo.url, headers: { cookie: cookies.inspector! } })
    expect(served.statusCode).toBe(200)
    expect(served.headers['content-type']).toBe('image/jpeg')
    expect(served.rawPayload.equals(row!.image)).toBe(true)
    const audit = await t.db.sql<{ after: { stage: string; sourceBytes: number; sha256: string } }[]>`
      select after from audit_log where action = 'photo.upload' and entity = 'photo' and entity_id = ${String(photo.id)} and outcome = 'ok'`
    expect(audit).toHaveLength(1)
    expect(audit[0]!.after).toMatchObject({ stage: 'premises', sourceBytes: phone.length })
    expect(audit[0]!.after.sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each(['png', 'webp'] as const)('accepts a %s photo and stores it as a JPEG', async (format) => {
    const body = await sharp(phone).resize(800).toFormat(format).toBuffer()
    const res = await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, body, { type: `image/${format}` })
    expect(res.statusCode, res.body).toBe(201)
    const [row] = await t.db.sql<{ image: Buffer; sourceType: string }[]>`select image, source_type from photo where id = ${res.json().id}`
    expect(row!.sourceType).toBe(format)
    expect((await sharp(row!.image).metadata()).format).toBe('jpeg')
  })

  it('stores hazard photos as found, and "after" photos only of a rectified hazard', async () => {
    const h = await newHazard()
    const found = await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { stage: 'found' })
    expect(found.statusCode, found.body).toBe(201)
    expect(found.json()).toMatchObject({ hazardId: h, premisesId: ids.premisesIn, stage: 'found' })
    const early = await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { stage: 'rectified' })
    expect(early.statusCode).toBe(409)
    expect(early.json()).toMatchObject({ reason: 'hazard-not-rectified' })
    expect(early.json().messageZh).toMatch(/先将隐患标记为已整改/)
    expect((await t.app.inject({ method: 'POST', url: `/api/hazards/${h}/rectify`, headers: { cookie: cookies.inspector! }, payload: {} })).statusCode).toBe(200)
    expect((await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { stage: 'rectified' })).statusCode).toBe(201)
  })
})

describe('refusing what is not a photo, or too much of one, writing nothing but the record of the refusal', () => {
  const cases: { name: string; make: () => Promise<Buffer | string>; type: string; status: number; reason: string; message: RegExp }[] = [
    { name: 'a text file renamed .jpg', make: async () => photoFixture('not-a-photo.jpg'), type: 'image/jpeg', status: 415, reason: 'not-a-photo', message: /only JPEG, PNG or WebP/ },
    { name: 'an SVG with a script', make: async () => photoFixture('script.svg'), type: 'image/svg+xml', status: 415, reason: 'not-a-photo', message: /SVG/ },
    { name: 'an SVG with a script sent as a JPEG', make: async () => photoFixture('script.svg'), type: 'image/jpeg', status: 415, reason: 'not-a-photo', message: /only JPEG, PNG or WebP/ },
    { name: 'a 50 MB photo', make: async () => Buffer.concat([phone, Buffer.alloc(50 * 1024 * 1024 - phone.length)]), type: 'image/jpeg', status: 413, reason: 'photo-too-large', message: /limit of 10 MB/ },
    { name: 'a header claiming 400 million pixels', make: async () => photoFixture('bomb-header.png'), type: 'image/png', status: 422, reason: 'photo-too-many-pixels', message: /400 million pixels, more than the 40 million/ },
    { name: 'a JPEG cut short', make: async () => phone.subarray(0, phone.length / 2), type: 'image/jpeg', status: 422, reason: 'photo-unreadable', message: /damaged or incomplete/ },
    { name: 'a JSON body', make: async () => JSON.stringify({ image: 'not here' }), type: 'application/json', status: 415, reason: 'not-a-photo', message: /only JPEG, PNG or WebP/ },
    { name: 'an empty body', make: async () => Buffer.alloc(0), type: 'image/jpeg', status: 415, reason: 'not-a-photo', message: /not a photo/ },
  ]
  it.each(cases)('refuses $name with $status ($reason), saying why', async ({ make, type, status, reason, message }) => {
    const before = await rows()
    const clientId = randomUUID()
    const res = await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, await make(), { type, clientId })
    expect(res.statusCode, res.body).toBe(status)
    expect(res.json()).toMatchObject({ reason })
    expect(res.json().message).toMatch(message)
    expect(res.json().messageZh).toBeTruthy()
    expect(await rows()).toBe(before)
    if (status !== 413) {
      // The refused upload is in the trail (a body over the limit is refused before it is read).
      const [audit] = await t.db.sql<{ outcome: string; reason: string }[]>`select outcome, reason from audit_log where action = 'photo.upload' and after ->> 'clientId' = ${clientId}`
      expect(audit).toEqual({ outcome: 'failed', reason })
    }
    // The same client id is free for the real photo afterwards.
    expect((await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone, { clientId })).statusCode).toBe(201)
  })

  it('answers 404 for a premises or hazard outside the jurisdiction, as if it did not exist, storing nothing', async () => {
    const before = await rows()
    for (const target of [`premises/${ids.premisesOut}`, `hazards/${ids.hazardOut}`, 'premises/2147483647']) {
      const res = await uploadPhoto(t.app, cookies.inspector!, target, phone, { stage: target.startsWith('hazards') ? 'found' : undefined })
      expect(res.statusCode, target).toBe(404)
      expect(res.json().message).toMatch(/^there is no (premises|hazard) with id/)
    }
    expect(await rows()).toBe(before)
  })

  it('refuses an upload to roles that do not record inspections (403)', async () => {
    for (const role of ['leader', 'analyst', 'admin']) {
      expect((await uploadPhoto(t.app, cookies[role]!, `premises/${ids.premisesIn}`, phone)).statusCode, role).toBe(403)
    }
  })
})

describe('an upload sent again', () => {
  it('answers the first photo (200) for the same client id, storing and auditing it once', async () => {
    const clientId = randomUUID()
    const first = await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone, { clientId })
    expect(first.statusCode).toBe(201)
    const again = await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone, { clientId })
    expect(again.statusCode).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from photo where client_id = ${clientId}`
    expect(n!.n).toBe(1)
    const [a] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'photo.upload' and entity_id = ${String(first.json().id)}`
    expect(a!.n).toBe(1)
  })

  it('stores one photo when the same upload arrives twice at once', async () => {
    const clientId = randomUUID()
    const [a, b] = await Promise.all([0, 1].map(() => uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone, { clientId })))
    expect([a!.statusCode, b!.statusCode].sort()).toEqual([200, 201])
    expect(a!.json().id).toBe(b!.json().id)
    const [n] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from photo where client_id = ${clientId}`
    expect(n!.n).toBe(1)
  })

  it('refuses a client id already used for another record or stage (409), storing nothing', async () => {
    const clientId = randomUUID()
    expect((await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone, { clientId })).statusCode).toBe(201)
    const h = await newHazard()
    const before = await rows()
    const res = await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { clientId, stage: 'found' })
    expect(res.statusCode).toBe(409)
    expect(res.json().reason).toBe('client-id-reused')
    expect(await rows()).toBe(before)
  })
})

describe('who sees which photo', () => {
  it('shows hazard photos to everyone who sees the hazard, and premises photos only to roles that see people', async () => {
    const h = await newHazard()
    const hazardPhoto = (await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { stage: 'found' })).json()
    const premisesPhoto = (await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone)).json()
    for (const role of ['inspector', 'commander']) {
      const list = (await t.app.inject({ url: `/api/premises/${ids.premisesIn}/photos`, headers: { cookie: cookies[role]! } })).json() as { id: number }[]
      expect(list.map(p => p.id), role).toEqual(expect.arrayContaining([hazardPhoto.id, premisesPhoto.id]))
      expect((await t.app.inject({ url: premisesPhoto.thumbUrl, headers: { cookie: cookies[role]! } })).statusCode).toBe(200)
    }
    for (const role of ['leader', 'analyst', 'admin']) {
      const list = (await t.app.inject({ url: `/api/premises/${ids.premisesIn}/photos`, headers: { cookie: cookies[role]! } })).json() as { id: number; stage: string }[]
      expect(list.map(p => p.id), role).toContain(hazardPhoto.id)
      expect(list.every(p => p.stage !== 'premises'), role).toBe(true)
      expect((await t.app.inject({ url: hazardPhoto.url, headers: { cookie: cookies[role]! } })).statusCode, role).toBe(200)
      for (const url of [premisesPhoto.url, premisesPhoto.thumbUrl]) {
        expect((await t.app.inject({ url, headers: { cookie: cookies[role]! } })).statusCode, `${role} ${url}`).toBe(404)
      }
    }
  })

  it('hides the photos of premises outside the jurisdiction (404)', async () => {
    const [outside] = await t.db.sql<{ id: number }[]>`select id from premises where id = ${ids.premisesOut}`
    const bureau = await signIn(t.app, 'bureau')
    const photo = (await uploadPhoto(t.app, bureau, `hazards/${ids.hazardOut}`, phone, { stage: 'found' })).json()
    expect((await t.app.inject({ url: `/api/premises/${outside!.id}/photos`, headers: { cookie: cookies.inspector! } })).statusCode).toBe(404)
    expect((await t.app.inject({ url: photo.url, headers: { cookie: cookies.inspector! } })).statusCode).toBe(404)
    expect((await t.app.inject({ url: photo.url, headers: { cookie: cookies.leader! } })).statusCode).toBe(200)
  })
})

describe('verifying a rectification', () => {
  it('refuses without an "after" photo (409, saying so), and verifies once there is one', async () => {
    const h = await newHazard('rectified')
    const refused = await t.app.inject({ method: 'POST', url: `/api/hazards/${h}/verify`, headers: { cookie: cookies.inspector! }, payload: {} })
    expect(refused.statusCode).toBe(409)
    expect(refused.json()).toMatchObject({ reason: 'after-photo-required' })
    expect(refused.json().message).toMatch(/without an "after" photo/)
    expect((await t.db.sql<{ status: string }[]>`select status from hazard where id = ${h}`)[0]!.status).toBe('rectified')
    // A photo of the hazard as found is not the evidence of its rectification.
    await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { stage: 'found' })
    expect((await t.app.inject({ method: 'POST', url: `/api/hazards/${h}/verify`, headers: { cookie: cookies.inspector! }, payload: {} })).statusCode).toBe(409)
    expect((await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { stage: 'rectified' })).statusCode).toBe(201)
    const ok = await t.app.inject({ method: 'POST', url: `/api/hazards/${h}/verify`, headers: { cookie: cookies.inspector! }, payload: {} })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(ok.json().status).toBe('verified')
  })

  it('verifies without a photo when the campaign does not ask for one', async () => {
    const h = await newHazard('rectified')
    await t.db.owner`update campaign set verify_needs_photo = false`
    // Written through another connection: read the versions rather than race the announcement.
    await t.app.versions.refresh()
    try {
      const campaign = (await t.app.inject({ url: '/api/campaign', headers: { cookie: cookies.inspector! } })).json()
      expect(campaign.verifyNeedsPhoto).toBe(false)
      expect((await t.app.inject({ method: 'POST', url: `/api/hazards/${h}/verify`, headers: { cookie: cookies.inspector! }, payload: {} })).statusCode).toBe(200)
    }
    finally {
      await t.db.owner`update campaign set verify_needs_photo = true`
      await t.app.versions.refresh()
    }
  })
})

describe('deleting a photo', () => {
  it('lets its uploader erase its pixels (204), keeping the record and an audit row; another inspector may not (403)', async () => {
    const photo = (await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone)).json()
    const other = await t.app.inject({ method: 'DELETE', url: photo.url, headers: { cookie: await colleague() } })
    expect(other.statusCode).toBe(403)
    expect(other.json().reason).toBe('not-photo-owner')
    expect((await t.app.inject({ method: 'DELETE', url: photo.url, headers: { cookie: cookies.inspector! } })).statusCode).toBe(204)
    const [row] = await t.db.sql<{ image: Buffer | null; deletedAt: Date | null }[]>`select image, deleted_at from photo where id = ${photo.id}`
    expect(row!.image).toBeNull()
    expect(row!.deletedAt).not.toBeNull()
    expect((await t.app.inject({ url: photo.url, headers: { cookie: cookies.inspector! } })).statusCode).toBe(404)
    const [a] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'photo.delete' and entity_id = ${String(photo.id)}`
    expect(a!.n).toBe(1)
  })

  it('lets a commander of the jurisdiction delete an inspector\'s photo', async () => {
    const photo = (await uploadPhoto(t.app, cookies.inspector!, `premises/${ids.premisesIn}`, phone)).json()
    expect((await t.app.inject({ method: 'DELETE', url: photo.url, headers: { cookie: cookies.commander! } })).statusCode).toBe(204)
    const [row] = await t.db.sql<{ deletedBy: number }[]>`select deleted_by from photo where id = ${photo.id}`
    expect(row!.deletedBy).toBe((await t.db.sql<{ id: number }[]>`select id from app_user where username = 'commander'`)[0]!.id)
  })

  it('keeps the only "after" photo of a verified hazard (409)', async () => {
    const h = await newHazard('rectified')
    const photo = (await uploadPhoto(t.app, cookies.inspector!, `hazards/${h}`, phone, { stage: 'rectified' })).json()
    expect((await t.app.inject({ method: 'POST', url: `/api/hazards/${h}/verify`, headers: { cookie: cookies.inspector! }, payload: {} })).statusCode).toBe(200)
    const res = await t.app.inject({ method: 'DELETE', url: photo.url, headers: { cookie: cookies.inspector! } })
    expect(res.statusCode).toBe(409)
    expect(res.json().reason).toBe('photo-is-evidence')
    await insertAfterPhoto(t.db.sql, h)
    expect((await t.app.inject({ method: 'DELETE', url: photo.url, headers: { cookie: cookies.inspector! } })).statusCode).toBe(204)
  })
})
