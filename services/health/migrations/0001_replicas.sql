-- The replica registry (services/health/replica_registry.h): what every running replica of every
-- Portunus service last announced, shared by all health replicas.
CREATE TABLE replicas (
  id             text PRIMARY KEY,
  service        text NOT NULL,
  hostname       text NOT NULL,
  pid            bigint NOT NULL,
  address        text NOT NULL,
  version        text NOT NULL,
  started_at     timestamptz NOT NULL,
  last_heartbeat timestamptz NOT NULL,
  ready          boolean NOT NULL,
  reason         text NOT NULL,
  stopped        boolean NOT NULL DEFAULT false
);
CREATE INDEX replicas_last_heartbeat_idx ON replicas (last_heartbeat);
