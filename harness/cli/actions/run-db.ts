/**
 * What `bench run` needs of the database, in one module it imports only when results go there.
 * @module
 */
export { createDb } from '../../../db/client.ts'
export { createPostgresSink } from '../../../db/sink.ts'
