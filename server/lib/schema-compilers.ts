import { AjvCompiler } from '@fastify/ajv-compiler'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'

type SerializerCompiler = SerializerSelector.SerializerCompiler
type Serializer = SerializerSelector.Serializer

/** What the compilers were built with, as Fastify's own pools key them: the shared schemas and the options. */
const poolKey = (externalSchemas: unknown, options: unknown) => `${JSON.stringify(externalSchemas)}${JSON.stringify(options)}`

const serializers = SerializerSelector.SerializerSelector()
const serializerPools = new Map<string, WeakMap<object, Serializer>>()

/**
 * Fastify's compilers of the routes' schemas, shared by every app this process builds, so that a
 * route's validator and serializer are compiled once per process instead of once per app. The
 * validators' compiler is Fastify's own, made once here instead of once per app: its Ajv keeps
 * each compiled schema by the schema's object, and the routes' schemas are module constants. The
 * serializers' compiler keeps nothing, so the compiled ones are kept here by schema object, within
 * the pool of the options they were compiled with.
 *
 * One app per process in production gains nothing; the tests build an app per file (and on
 * PostgreSQL a worker's files share one process), and compiling every route's schemas again took
 * 0.6-0.9 s of each build.
 */
export const schemaCompilers = {
  buildValidator: AjvCompiler(),
  buildSerializer: (externalSchemas?: unknown, options?: SerializerSelector.Options): SerializerCompiler => {
    const key = poolKey(externalSchemas, options)
    let pool = serializerPools.get(key)
    if (!pool) serializerPools.set(key, pool = new WeakMap())
    const build = serializers(externalSchemas, options)
    return (route) => {
      if (typeof route.schema !== 'object' || route.schema === null) return build(route)
      let kept = pool.get(route.schema)
      if (!kept) pool.set(route.schema, kept = build(route))
      return kept
    }
  },
}
