import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { DateTime, Nullable, problems, Slug, Text, Uuid } from '../http/common-schemas.js'
import type { Department, Receiver } from '../db/types.js'
import * as repo from './repository.js'
import { audited } from '../audit/audit.js'
import { auditContext } from '../plugins/auth.js'

const strict = { additionalProperties: false } as const

const TaxonomyItem = Type.Object({ id: Type.String(), name: Type.String(), nameZh: Nullable(Type.String()), active: Type.Boolean(), createdAt: DateTime(), updatedAt: DateTime() })
const TaxonomyCreate = Type.Object({ id: Slug('stable id, e.g. `after-sales`'), name: Text(200), nameZh: Type.Optional(Text(200)) }, strict)
const TaxonomyUpdate = Type.Object({ name: Type.Optional(Text(200)), nameZh: Type.Optional(Nullable(Text(200))), active: Type.Optional(Type.Boolean()) }, strict)
const SlugParams = Type.Object({ id: Slug('id') }, strict)
const ListQuery = Type.Object({ includeInactive: Type.Optional(Type.Boolean({ default: false })) }, strict)

const ReceiverItem = Type.Object({
  id: Uuid(), departmentId: Type.String(), name: Type.String(), phone: Nullable(Type.String()), email: Nullable(Type.String()),
  isDefault: Type.Boolean(), active: Type.Boolean(), createdAt: DateTime(), updatedAt: DateTime(),
})
const ReceiverCreate = Type.Object(
  {
    name: Text(200),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 -]{4,24}$' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    isDefault: Type.Optional(Type.Boolean({ description: 'assessment picks the default receiver when none is named' })),
  },
  { ...strict, examples: [{ name: '李娜', phone: '021-55550101', isDefault: true }] },
)
const ReceiverUpdate = Type.Object({ ...ReceiverCreate.properties, name: Type.Optional(Text(200)), active: Type.Optional(Type.Boolean()) }, strict)

const taxonomyDto = (r: Department) => ({ id: r.id, name: r.name, nameZh: r.name_zh, active: r.active, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() })
const receiverDto = (r: Receiver) => ({
  id: r.id, departmentId: r.department_id, name: r.name, phone: r.phone, email: r.email, isDefault: r.is_default, active: r.active,
  createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
})

/** departments, categories and receivers: the reference data assessment draws on */
export default async function adminRoutes(app: FastifyInstance) {
  const { services } = app
  const taxonomies = [
    { table: 'departments', singular: 'department', Singular: 'Department', zh: '执行部门' },
    { table: 'categories', singular: 'category', Singular: 'Category', zh: '抱怨类别' },
  ] as const

  for (const t of taxonomies) {
    const tags = ['admin']
    app.get(`/v1/admin/${t.table}`, {
      schema: {
        operationId: `list${t.Singular === 'Category' ? 'Categories' : 'Departments'}`, tags, summary: `List ${t.table} (${t.zh})`,
        querystring: ListQuery, response: { 200: Type.Object({ items: Type.Array(TaxonomyItem) }) },
      },
    }, async (req) => {
      const { includeInactive } = req.query as { includeInactive?: boolean }
      return { items: (await repo.listTaxonomy(services.db, t.table, includeInactive ?? false)).map(taxonomyDto) }
    })

    app.post(`/v1/admin/${t.table}`, {
      schema: {
        operationId: `create${t.Singular}`, tags, summary: `Create a ${t.singular}`,
        body: TaxonomyCreate, response: { 201: TaxonomyItem, ...problems(400, 409) },
      },
    }, async (req, reply) => {
      const now = services.clock.now()
      const dto = await audited(services.db, auditContext(req), now, async (trx) => {
        const after = taxonomyDto(await repo.createTaxonomy(trx, t.table, req.body as { id: string; name: string; nameZh?: string }, now))
        return { result: after, change: { entityType: t.singular, entityId: after.id, before: null, after } }
      })
      return reply.code(201).send(dto)
    })

    app.patch(`/v1/admin/${t.table}/:id`, {
      schema: {
        operationId: `update${t.Singular}`, tags, summary: `Rename, translate or (de)activate a ${t.singular}`,
        description: 'Inactive entries stay on existing complaints but cannot be chosen at assessment.',
        params: SlugParams, body: TaxonomyUpdate, response: { 200: TaxonomyItem, ...problems(400, 404) },
      },
    }, async (req) => {
      const { id } = req.params as { id: string }
      const now = services.clock.now()
      return audited(services.db, auditContext(req), now, async (trx) => {
        const before = await trx.selectFrom(t.table).selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
        const after = taxonomyDto(await repo.updateTaxonomy(trx, t.table, id, req.body as { name?: string }, now))
        return { result: after, change: { entityType: t.singular, entityId: id, before: before ? taxonomyDto(before) : null, after } }
      })
    })
  }

  app.get('/v1/admin/departments/:id/receivers', {
    schema: {
      operationId: 'listReceivers', tags: ['admin'], summary: 'List a department’s receivers (指定接收人)',
      params: SlugParams, response: { 200: Type.Object({ items: Type.Array(ReceiverItem) }) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    return { items: (await repo.listReceivers(services.db, id)).map(receiverDto) }
  })

  app.post('/v1/admin/departments/:id/receivers', {
    schema: {
      operationId: 'createReceiver', tags: ['admin'], summary: 'Add a receiver to a department',
      params: SlugParams, body: ReceiverCreate, response: { 201: ReceiverItem, ...problems(400, 404) },
    },
  }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const now = services.clock.now()
    const dto = await audited(services.db, auditContext(req), now, async (trx) => {
      const after = receiverDto(await repo.createReceiver(trx, id, req.body as repo.ReceiverInput, now))
      return { result: after, change: { entityType: 'receiver', entityId: after.id, before: null, after } }
    })
    return reply.code(201).send(dto)
  })

  app.patch('/v1/admin/receivers/:id', {
    schema: {
      operationId: 'updateReceiver', tags: ['admin'], summary: 'Change, make default or deactivate a receiver',
      params: Type.Object({ id: Uuid() }, strict), body: ReceiverUpdate, response: { 200: ReceiverItem, ...problems(400, 404) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    const now = services.clock.now()
    return audited(services.db, auditContext(req), now, async (trx) => {
      const { before, after } = await repo.updateReceiver(trx, id, req.body as repo.ReceiverInput, now)
      return { result: receiverDto(after), change: { entityType: 'receiver', entityId: id, before: receiverDto(before), after: receiverDto(after) } }
    })
  })
}
