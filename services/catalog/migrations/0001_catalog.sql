-- The catalog: what the registry holds (repositories, tags, manifests), the durable queue of
-- registry events, the new-manifest feed for the scanner, and the record of sync passes.

-- Every write of a tag takes a new version: sync passes use it as an optimistic lock so they
-- never undo a change an event made while they were crawling.
CREATE SEQUENCE tag_versions;

CREATE TABLE repositories (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL UNIQUE,          -- full name: "team/app"
  namespace    text NOT NULL,                 -- "team"; '' for the global namespace
  namespace_id bigint NOT NULL DEFAULT 0,     -- the auth service's id (0: unknown/global)
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
CREATE INDEX repositories_namespace ON repositories (namespace);
CREATE INDEX repositories_namespace_id ON repositories (namespace_id);

-- Content-addressed: a (repository, digest) row never changes once written.
CREATE TABLE manifests (
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  digest        text NOT NULL,
  media_type    text NOT NULL,
  size          bigint NOT NULL,                -- config + layers (index: summed over platforms)
  config_digest text NOT NULL DEFAULT '',
  image_created timestamptz,
  platforms     jsonb NOT NULL DEFAULT '[]',    -- [{"os","architecture","variant","digest"}]
  layers        jsonb NOT NULL DEFAULT '[]',    -- [{"digest","size","media_type"}]
  children      jsonb NOT NULL DEFAULT '[]',    -- index: platform manifest digests
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, digest)
);

CREATE TABLE tags (
  id            bigserial PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  name          text NOT NULL,
  digest        text NOT NULL,
  author        text NOT NULL DEFAULT '',       -- the registry's actor: the JWT subject
  version       bigint NOT NULL DEFAULT nextval('tag_versions'),
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  pulled_at     timestamptz,
  UNIQUE (repository_id, name),
  FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest)
);
CREATE INDEX tags_repository_digest ON tags (repository_id, digest);

-- The new-manifest feed the scanner consumes (CatalogService.ListManifestsSince).
CREATE TABLE manifest_feed (
  seq        bigserial PRIMARY KEY,
  repository text NOT NULL,
  digest     text NOT NULL,
  media_type text NOT NULL,
  tag        text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX manifest_feed_created_at ON manifest_feed (created_at);

-- Registry notifications, one row per event id. Workers of every replica claim pending rows
-- with FOR UPDATE SKIP LOCKED, are woken by NOTIFY catalog_events, and apply a row in the same
-- transaction that marks it done.
CREATE TABLE events (
  id              bigserial PRIMARY KEY,
  event_id        text NOT NULL UNIQUE,
  status          text NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'rejected')),
  action          text NOT NULL DEFAULT '',
  repository      text NOT NULL DEFAULT '',
  tag             text NOT NULL DEFAULT '',
  digest          text NOT NULL DEFAULT '',
  media_type      text NOT NULL DEFAULT '',
  actor           text NOT NULL DEFAULT '',
  event_time      timestamptz,
  payload         text NOT NULL DEFAULT '',
  attempts        integer NOT NULL DEFAULT 0,
  last_error      text NOT NULL DEFAULT '',
  received_at     timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  processed_at    timestamptz
);
CREATE INDEX events_pending ON events (id) WHERE status = 'pending';
CREATE INDEX events_pending_repository ON events (repository, id) WHERE status = 'pending';
CREATE INDEX events_status_id ON events (status, id);
CREATE INDEX events_done_processed_at ON events (processed_at) WHERE status = 'done';

CREATE TABLE sync_runs (
  id          bigserial PRIMARY KEY,
  state       text NOT NULL,
  trigger     text NOT NULL,
  strategy    text NOT NULL,
  dry_run     boolean NOT NULL,
  force       boolean NOT NULL,
  replica     text NOT NULL DEFAULT '',
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  report      jsonb NOT NULL DEFAULT '{}'
);
