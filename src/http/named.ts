import type { TSchema } from 'typebox'

/**
 * Marks a schema as a named component of the OpenAPI document: routes keep using it inline (so
 * validation, serialisation and handler types come from it), and the document generator hoists it
 * into `components.schemas` and refers to it by name (src/http/openapi-shape.ts).
 */
export const COMPONENT = 'x-component'
export const named = <T extends TSchema>(name: string, schema: T): T => ({ ...schema, [COMPONENT]: name })

/** a named schema where it is used with a description of its own (the document keeps the $ref and the description) */
export const DESCRIBED_FROM = 'x-described-from'
export const withDescription = <T extends TSchema>(schema: T, description: string): T =>
  ({ ...schema, description, [DESCRIBED_FROM]: (schema as { description?: string }).description ?? null })
