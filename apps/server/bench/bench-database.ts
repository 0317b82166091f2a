import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface BenchDatabase {
  /** The DATABASE_URL of the fresh database. */
  readonly url: string;
  /** Drops it, disconnecting anyone still attached (a killed server's pool). */
  drop(): Promise<void>;
}

async function asAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database beside the one `adminUrl` names, so the bench never touches existing data. */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  // Random hex only: safe to splice into the statement, which cannot take a parameter here.
  const name = `tether_bench_${randomBytes(6).toString('hex')}`;
  await asAdmin(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => asAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
