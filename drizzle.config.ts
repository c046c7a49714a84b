/**
 * drizzle-kit configuration: `npx drizzle-kit generate` writes SQL migrations for db/schema.ts into
 * db/migrations (applied at start-up by createDb; never edited by hand).
 */
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema.ts',
  out: './db/migrations',
})
