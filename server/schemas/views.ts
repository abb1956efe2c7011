import { type Static, Type } from 'typebox'
import { Id, OneOf } from './common.js'

/** The pages a view can be saved from. */
export const viewPages = ['dashboard', 'map'] as const
export type ViewPage = typeof viewPages[number]

const PageSchema = OneOf(viewPages, { description: 'The page the view opens: dashboard or map' })

/**
 * A view's part of the page address: the filters as the page's query string has them, and the
 * map's position as at=lon,lat,zoom. Names and values are short words, ids and dates.
 */
const ViewQuerySchema = Type.Record(Type.String(), Type.String({ maxLength: 2000 }), {
  maxProperties: 20,
  propertyNames: { pattern: '^[A-Za-z]{1,20}$' },
  description: 'The page\'s query parameters: filters (town=3&category=fire…) and the map\'s position (at=lon,lat,zoom)',
  examples: [{ town: '3', category: 'fire', at: '119.95,31.90,12.5' }],
})

const Name = Type.String({ minLength: 1, maxLength: 60, pattern: '\\S', description: 'What the view is called in the list (unique per user and page)' })

export const ViewCreateSchema = Type.Object({
  name: Name,
  page: PageSchema,
  query: ViewQuerySchema,
  shared: Type.Optional(Type.Boolean({ default: false, description: 'Listed for every signed-in user (who sees it through their own jurisdiction)' })),
}, { additionalProperties: false })

export const ViewPatchSchema = Type.Partial(Type.Object({
  name: Name,
  query: ViewQuerySchema,
  shared: Type.Boolean(),
}), { additionalProperties: false, minProperties: 1 })

export const ViewListQuerySchema = Type.Object({
  page: Type.Optional(PageSchema),
}, { additionalProperties: false })

export const ViewIdParams = Type.Object({ id: Id('The saved view') })

export const SavedViewSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  page: PageSchema,
  query: Type.Record(Type.String(), Type.String()),
  shared: Type.Boolean(),
  mine: Type.Boolean({ description: 'The reader saved it (and may change or delete it)' }),
  owner: Type.String({ description: 'The display name of who saved it' }),
  updatedAt: Type.String(),
})

export type ViewCreate = Static<typeof ViewCreateSchema>
export type ViewPatch = Static<typeof ViewPatchSchema>
export type SavedView = Static<typeof SavedViewSchema>
