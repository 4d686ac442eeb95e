import { sql, type Kysely } from 'kysely'

// An event's payload is written once, read back only to be sent as it is, and never queried inside:
// `json` keeps the text the service wrote, byte for byte (the body the dispatcher signs and sends),
// where `jsonb` parsed every payload into its binary form on the way in (the bind of the outbox insert:
// 1.5 s of a 10 s breach sweep over a million complaints, npm run bench) and the dispatcher parsed it
// back and serialised it again. Payloads are a few KB: where the server has lz4 they are compressed
// with it rather than pglz (faster both ways, for about the same size). Existing rows keep their
// content (jsonb's text form of it).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table outbox_events alter column payload type json using payload::json`.execute(db)
  await sql.raw(`do $$ begin
    if exists (select from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
      alter table outbox_events alter column payload set compression lz4;
    end if;
  end $$`).execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table outbox_events alter column payload set compression default`.execute(db)
  await sql`alter table outbox_events alter column payload type jsonb using payload::jsonb`.execute(db)
}
