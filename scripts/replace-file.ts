import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

/**
 * Writes a build output whole: a new file renamed over the old, so a process reading it meanwhile (a
 * test starting the service while `npm run build` runs in another test) gets the old file or the new
 * one, never a part; a file whose content is already this is left alone. True when it was written.
 */
export function replaceFile(file: string, data: string | Uint8Array): boolean {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data
  if (existsSync(file) && Buffer.compare(readFileSync(file), bytes) === 0) return false
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, bytes)
  renameSync(temporary, file)
  return true
}
