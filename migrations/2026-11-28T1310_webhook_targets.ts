import { sql, type Kysely } from 'kysely'

// Frozen. A webhook subscription gets a delivery target kind: `http` (a URL, as before) or a built-in
// target that writes into another system through its API and has no URL (src/webhooks/targets.ts).
// A built-in target exists at most once: two would deliver every event twice.
const statements = [
  `alter table webhook_subscriptions add column target text not null default 'http'`,
  `alter table webhook_subscriptions alter column url drop not null`,
  `alter table webhook_subscriptions add constraint webhook_subscriptions_url_by_target check ((target = 'http') = (url is not null))`,
  `create unique index webhook_subscriptions_one_builtin on webhook_subscriptions (target) where target <> 'http'`,
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(`delete from webhook_subscriptions where target <> 'http'`).execute(db)
  await sql.raw('drop index if exists webhook_subscriptions_one_builtin').execute(db)
  await sql.raw('alter table webhook_subscriptions drop constraint if exists webhook_subscriptions_url_by_target').execute(db)
  await sql.raw('alter table webhook_subscriptions alter column url set not null').execute(db)
  await sql.raw('alter table webhook_subscriptions drop column if exists target').execute(db)
}
