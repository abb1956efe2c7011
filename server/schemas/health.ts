import { type Static, Type } from 'typebox'

export const HealthSchema = Type.Object({
  ok: Type.Boolean(),
  backend: Type.Union([Type.Literal('embedded'), Type.Literal('postgres')]),
  postgis: Type.String({ description: 'PostGIS version' }),
  mvt: Type.Boolean({ description: 'Whether ST_AsMVT works in this database' }),
})
export type Health = Static<typeof HealthSchema>
