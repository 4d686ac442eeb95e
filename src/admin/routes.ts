import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import { DateTime, json, named, Nullable, problems, Slug, Text, Uuid } from '../http/common-schemas.js'
import type { Department, Receiver } from '../db/types.js'
import * as repo from './repository.js'
import { audited } from '../audit/audit.js'
import { auditContext } from '../plugins/auth.js'

const strict = { additionalProperties: false } as const

function taxonomySchemas(Name: 'Department' | 'Category', zh: string, example: { id: string; name: string; nameZh: string }) {
  const item = named(Name, Type.Object(
    { id: Type.String(), name: Type.String(), nameZh: Nullable(Type.String()), active: Type.Boolean({ description: 'inactive entries stay on complaints but cannot be chosen at assessment' }), createdAt: DateTime(), updatedAt: DateTime() },
    { description: zh, examples: [{ ...example, active: true, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z' }] },
  ))
  return {
    item,
    list: named(`${Name}List`, Type.Object({ items: Type.Array(item) }, { description: 'by id' })),
    create: named(`Create${Name}Request`, Type.Object({ id: Slug('stable id, e.g. `after-sales`'), name: Text(200), nameZh: Type.Optional(Text(200)) }, { ...strict, examples: [example] })),
    update: named(`Update${Name}Request`, Type.Object(
      { name: Type.Optional(Text(200)), nameZh: Type.Optional(Nullable(Text(200))), active: Type.Optional(Type.Boolean()) },
      { ...strict, examples: [{ nameZh: example.nameZh, active: false }] },
    )),
  }
}
const SlugParams = Type.Object({ id: Slug('id') }, strict)
const ListQuery = Type.Object({ includeInactive: Type.Optional(Type.Boolean({ default: false })) }, strict)

const ReceiverItem = named('Receiver', Type.Object({
  id: Uuid(), departmentId: Type.String(), name: Type.String(), phone: Nullable(Type.String()), email: Nullable(Type.String()),
  isDefault: Type.Boolean({ description: 'assessment picks the default receiver when none is named' }), active: Type.Boolean(), createdAt: DateTime(), updatedAt: DateTime(),
}, {
  description: '指定接收人: who signs for the department’s complaints',
  examples: [{ id: '0195f7a4-0000-7000-8000-00000000a11a', departmentId: 'service-station', name: '李娜', phone: '021-55550101', email: null, isDefault: true, active: true, createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z' }],
}))
const ReceiverList = named('ReceiverList', Type.Object({ items: Type.Array(ReceiverItem) }, { description: 'the department’s receivers' }))
const receiverFields = {
  name: Text(200),
  phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9][0-9 -]{4,24}$' })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  isDefault: Type.Optional(Type.Boolean({ description: 'assessment picks the default receiver when none is named' })),
}
const ReceiverCreate = named('CreateReceiverRequest', Type.Object(receiverFields, { ...strict, examples: [{ name: '李娜', phone: '021-55550101', isDefault: true }] }))
const ReceiverUpdate = named('UpdateReceiverRequest', Type.Object({ ...receiverFields, name: Type.Optional(Text(200)), active: Type.Optional(Type.Boolean()) }, { ...strict, examples: [{ isDefault: true }] }))

const taxonomyDto = (r: Department) => ({ id: r.id, name: r.name, nameZh: r.name_zh, active: r.active, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() })
const receiverDto = (r: Receiver) => ({
  id: r.id, departmentId: r.department_id, name: r.name, phone: r.phone, email: r.email, isDefault: r.is_default, active: r.active,
  createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
})

/** departments, categories and receivers: the reference data assessment draws on */
export default async function adminRoutes(app: FastifyInstance) {
  const { services } = app
  const taxonomies = [
    { table: 'departments', singular: 'department', Singular: 'Department', zh: '执行部门', schemas: taxonomySchemas('Department', '执行部门: a handling department', { id: 'service-station', name: 'Service station', nameZh: '服务站' }) },
    { table: 'categories', singular: 'category', Singular: 'Category', zh: '抱怨类别', schemas: taxonomySchemas('Category', '抱怨类别: a complaint category', { id: 'product_quality', name: 'Product quality', nameZh: '产品质量' }) },
  ] as const

  for (const t of taxonomies) {
    const tags = ['admin']
    app.get(`/v1/admin/${t.table}`, {
      schema: {
        operationId: `list${t.Singular === 'Category' ? 'Categories' : 'Departments'}`, tags, summary: `List ${t.table} (${t.zh})`,
        querystring: ListQuery, response: { 200: json(`The ${t.table}, by id.`, t.schemas.list) },
      },
    }, async (req) => {
      const { includeInactive } = req.query as { includeInactive?: boolean }
      return { items: (await repo.listTaxonomy(services.db, t.table, includeInactive ?? false)).map(taxonomyDto) }
    })

    app.post(`/v1/admin/${t.table}`, {
      schema: {
        operationId: `create${t.Singular}`, tags, summary: `Create a ${t.singular}`,
        body: t.schemas.create, response: { 201: json(`The new ${t.singular}.`, t.schemas.item), ...problems(409) },
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
        params: SlugParams, body: t.schemas.update, response: { 200: json(`The ${t.singular} as changed.`, t.schemas.item), ...problems(404) },
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
      params: SlugParams, response: { 200: json('The receivers.', ReceiverList) },
    },
  }, async (req) => {
    const { id } = req.params as { id: string }
    return { items: (await repo.listReceivers(services.db, id)).map(receiverDto) }
  })

  app.post('/v1/admin/departments/:id/receivers', {
    schema: {
      operationId: 'createReceiver', tags: ['admin'], summary: 'Add a receiver to a department',
      params: SlugParams, body: ReceiverCreate, response: { 201: json('The new receiver.', ReceiverItem), ...problems(404) },
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
      params: Type.Object({ id: Uuid() }, strict), body: ReceiverUpdate, response: { 200: json('The receiver as changed.', ReceiverItem), ...problems(404, 422) },
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
