import type { Migration } from '@tether/server-core';

/** The chat domain's tables. Room events live in the plumbing's event log (stream `room:<id>`). */
export const CHAT_MIGRATIONS: readonly Migration[] = [
  {
    id: 'chat-001-initial',
    sql: `
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        username text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
      CREATE TABLE rooms (
        id uuid PRIMARY KEY,
        name text NOT NULL UNIQUE,
        visibility text NOT NULL CHECK (visibility IN ('public', 'private')),
        created_by uuid NOT NULL REFERENCES users (id),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE room_members (
        room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        joined_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (room_id, user_id)
      );
      CREATE INDEX room_members_user ON room_members (user_id);
      CREATE TABLE messages (
        id uuid PRIMARY KEY,
        room_id uuid NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        author_id uuid NOT NULL REFERENCES users (id),
        body text NOT NULL,
        created_at timestamptz NOT NULL,
        edited_at timestamptz,
        deleted_at timestamptz,
        UNIQUE (room_id, seq)
      );`,
  },
  {
    id: 'chat-002-service-tokens',
    sql: `
      ALTER TABLE users ADD COLUMN is_admin boolean NOT NULL DEFAULT false;
      ALTER TABLE users ADD COLUMN is_service boolean NOT NULL DEFAULT false;
      -- The first person to sign up administers the server.
      UPDATE users SET is_admin = true WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);
      CREATE TABLE service_tokens (
        id uuid PRIMARY KEY,
        bot_user_id uuid NOT NULL UNIQUE REFERENCES users (id),
        token_hash text NOT NULL UNIQUE,
        scopes jsonb NOT NULL,
        room_ids jsonb NOT NULL,
        created_by uuid NOT NULL REFERENCES users (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      );`,
  },
  {
    // A private room's name is its members' business: unique among public rooms only, so creating a room can
    // never tell whether a private one of that name exists. Pages of rooms go by (name, id).
    id: 'chat-003-public-names',
    sql: `
      ALTER TABLE rooms DROP CONSTRAINT rooms_name_key;
      CREATE UNIQUE INDEX rooms_public_name ON rooms (name) WHERE visibility = 'public';
      CREATE INDEX rooms_name_id ON rooms (name, id);`,
  },
];
