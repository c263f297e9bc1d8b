-- The identity and access model: accounts, teams and their members, namespaces, application
-- tokens. Runs with search_path = auth. Invariants that need more than one row (last owner,
-- last admin, token limit) are kept by PgIdentityStore under row locks; everything a single row
-- or a unique index can say is said here.

CREATE TABLE users (
  id              bigserial PRIMARY KEY,
  username        text NOT NULL,
  email           text,
  display_name    text,
  password_hash   text,
  admin           boolean NOT NULL DEFAULT false,
  enabled         boolean NOT NULL DEFAULT true,
  bot             boolean NOT NULL DEFAULT false,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_username_key UNIQUE (username),
  CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9]+([._-][a-z0-9]+)*$' AND length(username) <= 255),
  CONSTRAINT users_bot_not_admin CHECK (NOT (bot AND admin)),
  CONSTRAINT users_person_credentials CHECK (bot OR (password_hash IS NOT NULL AND email IS NOT NULL)),
  CONSTRAINT users_bot_no_password CHECK (NOT bot OR password_hash IS NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE teams (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL,
  description   text NOT NULL DEFAULT '',
  kind          text NOT NULL DEFAULT 'team' CHECK (kind IN ('team', 'personal', 'global')),
  owner_user_id bigint REFERENCES users (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT teams_name_key UNIQUE (name),
  CONSTRAINT teams_personal_owner CHECK ((kind = 'personal') = (owner_user_id IS NOT NULL))
);
CREATE UNIQUE INDEX teams_one_personal_per_user ON teams (owner_user_id) WHERE kind = 'personal';
CREATE UNIQUE INDEX teams_one_global ON teams (kind) WHERE kind = 'global';

CREATE TABLE team_members (
  id         bigserial PRIMARY KEY,
  team_id    bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('viewer', 'contributor', 'owner')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT team_members_team_user_key UNIQUE (team_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

CREATE TABLE namespaces (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  team_id     bigint NOT NULL REFERENCES teams (id),
  visibility  text NOT NULL CHECK (visibility IN ('private', 'protected', 'public')),
  kind        text NOT NULL DEFAULT 'team' CHECK (kind IN ('team', 'personal', 'global')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT namespaces_name_key UNIQUE (name),
  CONSTRAINT namespaces_name_format CHECK (name ~ '^[a-z0-9]+([._-][a-z0-9]+)*$' AND length(name) <= 255),
  CONSTRAINT namespaces_global_public CHECK (kind <> 'global' OR visibility = 'public')
);
CREATE INDEX namespaces_team_idx ON namespaces (team_id);

CREATE TABLE application_tokens (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  application text NOT NULL,
  digest      text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),  -- hex SHA-256 of the secret
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT application_tokens_digest_key UNIQUE (digest),
  CONSTRAINT application_tokens_user_application_key UNIQUE (user_id, application)
);

-- The global team (all admins) and the global namespace (images without '/'), as Portus named them.
INSERT INTO teams (name, description, kind) VALUES ('portus_global_team', 'The administrators', 'global');
INSERT INTO namespaces (name, description, team_id, visibility, kind)
  SELECT 'portus_global_namespace', 'Images without a namespace', id, 'public', 'global'
  FROM teams WHERE kind = 'global';

-- Every committed change that can alter an authorization decision or a cached credential is
-- announced on channel portunus_auth, so every replica refreshes its cache (pg_access_feed.cc):
--   user:<id>       account changed (access flags, password, lock) or deleted
--   team:<id>       team or its membership changed
--   namespace:<id>  namespace changed
--   token:<user_id> an application token of that account was revoked
-- Failed-login counting alone is not announced (it changes nothing until it locks the account).
CREATE FUNCTION notify_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    IF TG_OP = 'UPDATE' AND
       ROW(NEW.username, NEW.admin, NEW.enabled, NEW.bot, NEW.password_hash, NEW.locked_until)
         IS NOT DISTINCT FROM
       ROW(OLD.username, OLD.admin, OLD.enabled, OLD.bot, OLD.password_hash, OLD.locked_until) THEN
      RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('portunus_auth', 'user:' || OLD.id);
    ELSE
      PERFORM pg_notify('portunus_auth', 'user:' || NEW.id);
    END IF;
  ELSIF TG_TABLE_NAME = 'teams' THEN
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('portunus_auth', 'team:' || OLD.id);
    ELSE
      PERFORM pg_notify('portunus_auth', 'team:' || NEW.id);
    END IF;
  ELSIF TG_TABLE_NAME = 'team_members' THEN
    IF TG_OP <> 'INSERT' THEN
      PERFORM pg_notify('portunus_auth', 'team:' || OLD.team_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      PERFORM pg_notify('portunus_auth', 'team:' || NEW.team_id);
    END IF;
  ELSIF TG_TABLE_NAME = 'namespaces' THEN
    IF TG_OP = 'DELETE' THEN
      PERFORM pg_notify('portunus_auth', 'namespace:' || OLD.id);
    ELSE
      PERFORM pg_notify('portunus_auth', 'namespace:' || NEW.id);
    END IF;
  ELSIF TG_TABLE_NAME = 'application_tokens' THEN
    PERFORM pg_notify('portunus_auth', 'token:' || OLD.user_id);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION notify_access_change();
CREATE TRIGGER teams_notify AFTER INSERT OR UPDATE OR DELETE ON teams
  FOR EACH ROW EXECUTE FUNCTION notify_access_change();
CREATE TRIGGER team_members_notify AFTER INSERT OR UPDATE OR DELETE ON team_members
  FOR EACH ROW EXECUTE FUNCTION notify_access_change();
CREATE TRIGGER namespaces_notify AFTER INSERT OR UPDATE OR DELETE ON namespaces
  FOR EACH ROW EXECUTE FUNCTION notify_access_change();
CREATE TRIGGER application_tokens_notify AFTER DELETE ON application_tokens
  FOR EACH ROW EXECUTE FUNCTION notify_access_change();
