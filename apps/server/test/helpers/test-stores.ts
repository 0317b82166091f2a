import { storeEngines as coreStoreEngines, type StoreEngine } from '@tether/server-core/testing';
import { CHAT_MIGRATIONS } from '../../src/chat/migrations';
import { testEnv } from './test-env';

export type { StoreEngine };

/** Stores migrated for the chat: PGlite always, PostgreSQL when DATABASE_URL is set (announced when not). */
export function storeEngines(suite: string): StoreEngine[] {
  return coreStoreEngines(suite, { databaseUrl: testEnv.databaseUrl, migrations: CHAT_MIGRATIONS });
}
