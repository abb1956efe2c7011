import { type TLiteral, type TUnion, Type } from 'typebox'

/** Every 4xx/5xx answer: a status, a short error name and a sentence a person understands. */
export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  messageZh: Type.Optional(Type.String({ description: 'The message in Chinese, where the server has it' })),
  reason: Type.Optional(Type.String({ description: 'A stable word for programs, e.g. session-expired, signin-required, forbidden' })),
}, { $id: 'Error' })

/** Shorthand for the error answers a route can give. */
export function errors(...codes: number[]): Record<number, typeof ErrorSchema> {
  return Object.fromEntries(codes.map(c => [c, ErrorSchema]))
}

export const DateString = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'A calendar date, YYYY-MM-DD',
  examples: ['2020-06-29'],
})

export const BboxString = Type.String({
  pattern: '^\\s*-?\\d+(\\.\\d+)?\\s*(,\\s*-?\\d+(\\.\\d+)?\\s*){3}$',
  description: 'minLon,minLat,maxLon,maxLat in WGS-84 degrees',
  examples: ['119.95,31.82,120.01,31.88'],
})

/** The largest id of any table: PostgreSQL's integer, so that no id reaches the database out of its range. */
export const maxId = 2_147_483_647

/** A record's id (1 to 2,147,483,647). Every id a request carries uses it. */
export const Id = (description?: string) => Type.Integer({ minimum: 1, maximum: maxId, ...(description ? { description } : {}) })

/** Rows to skip when paging: at most the largest id, so beyond every table and still in range. */
export const Offset = (description?: string) => Type.Integer({ minimum: 0, maximum: maxId, default: 0, ...(description ? { description } : {}) })

export const IdList = Type.String({
  pattern: '^\\d+(,\\d+)*$',
  description: 'One id or several separated by commas',
})


export const AnyGeometry = Type.Object({
  type: Type.String(),
  coordinates: Type.Array(Type.Unknown()),
}, { additionalProperties: true })

/** A literal schema for each value of a tuple of strings, in its order. */
type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> }

/**
 * One value of a list of server/domain/lists.ts: a union of its literals, in the list's order (the
 * same schema as if written out; the tuple type keeps each literal for Static<>).
 */
export function OneOf<const T extends readonly string[]>(values: T, options: { description?: string; default?: T[number] } = {}): TUnion<Literals<T>> {
  return Type.Union(values.map(v => Type.Literal(v)), options) as TUnion<Literals<T>>
}

/** Values of a list of server/domain/lists.ts as a query parameter, comma-separated. */
export const ListOf = (values: readonly string[], description: string) =>
  Type.String({ pattern: `^(${values.join('|')})(,(${values.join('|')}))*$`, description })

/**
 * A file answer (CSV, XLSX, GeoJSON download), for the API document: the body is a string, a
 * buffer or a stream sent as it is, which Fastify never serialises against a schema.
 */
export const FileAnswer = (description: string, mediaTypes: readonly string[]) => ({
  description,
  content: Object.fromEntries(mediaTypes.map(t => [t.split(';')[0]!, { schema: Type.Unsafe<unknown>({ type: 'string', format: 'binary' }) }])),
})
