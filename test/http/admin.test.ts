import t from 'tap'
import { testApp, webComplaint } from '../helper.js'

t.test('the default departments and categories (docs/vocabulary.md) are there from the start', async (t) => {
  const api = await testApp(t)
  const depts = await api.call('GET', '/v1/admin/departments')
  t.same(depts.json.items.map((d: { id: string; nameZh: string }) => [d.id, d.nameZh]), [
    ['finance', '财务部'], ['general-affairs', '综合管理部'], ['marketing', '市场部'], ['sales', '销售部'], ['service-station', '服务站'],
  ])
  const cats = await api.call('GET', '/v1/admin/categories')
  t.ok(cats.json.items.some((c: { id: string }) => c.id === 'product_quality'))
})

t.test('departments, categories and receivers are managed through the API and used by assessment', async (t) => {
  const api = await testApp(t)
  const dept = await api.call('POST', '/v1/admin/departments', { id: 'after-sales', name: 'After-sales', nameZh: '售后部' })
  t.equal(dept.status, 201)
  t.equal((await api.call('POST', '/v1/admin/departments', { id: 'after-sales', name: 'again' })).status, 409)
  t.equal((await api.call('POST', '/v1/admin/categories', { id: 'warranty', name: 'Warranty', nameZh: '保修' })).status, 201)

  const first = await api.call('POST', '/v1/admin/departments/after-sales/receivers', { name: '李娜', phone: '021-55550101', isDefault: true })
  t.equal(first.status, 201)
  const second = await api.call('POST', '/v1/admin/departments/after-sales/receivers', { name: '王强', isDefault: true })
  const receivers = await api.call('GET', '/v1/admin/departments/after-sales/receivers')
  t.same(receivers.json.items.map((r: { name: string; isDefault: boolean }) => [r.name, r.isDefault]), [['李娜', false], ['王强', true]], 'one default receiver per department')

  const c = (await api.call('POST', '/v1/complaints', webComplaint())).json
  const assessed = await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'warranty', level: 'general', departmentId: 'after-sales' })
  t.equal(assessed.status, 200)
  t.equal(assessed.json.receiverId, second.json.id, 'assessment picks the default receiver')

  const explicit = await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'warranty', level: 'general', departmentId: 'after-sales', receiverId: first.json.id })
  t.equal(explicit.json.receiverId, first.json.id)
  const wrongDept = await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'warranty', level: 'general', departmentId: 'sales', receiverId: first.json.id })
  t.equal(wrongDept.status, 422)
  t.equal(wrongDept.json.errors[0].field, '/body/receiverId')

  t.equal((await api.call('PATCH', '/v1/admin/categories/warranty', { active: false })).json.active, false)
  const inactive = await api.call('POST', `/v1/complaints/${c.id}/assess`, { categoryId: 'warranty', level: 'general', departmentId: 'after-sales' })
  t.equal(inactive.status, 422, 'an inactive category cannot be chosen')
  t.equal((await api.call('GET', '/v1/admin/categories')).json.items.some((x: { id: string }) => x.id === 'warranty'), false)
  t.equal((await api.call('GET', '/v1/admin/categories?includeInactive=true')).json.items.some((x: { id: string }) => x.id === 'warranty'), true)

  const deactivated = await api.call('PATCH', `/v1/admin/receivers/${second.json.id}`, { active: false })
  t.equal(deactivated.json.isDefault, false, 'an inactive receiver is nobody’s default')
  const inactiveDefault = await api.call('PATCH', `/v1/admin/receivers/${second.json.id}`, { isDefault: true })
  t.equal(inactiveDefault.status, 422)
  t.equal(inactiveDefault.json.errors[0].field, '/body/isDefault')
  t.equal((await api.call('PATCH', '/v1/admin/departments/nope', { name: 'x' })).status, 404)
  t.equal((await api.call('POST', '/v1/admin/departments', { id: 'Bad Id', name: 'x' })).status, 400)
})
