-- The scanner's schema: vulnerability data, the durable scan queue, inventories per layer and
-- per manifest, and results per manifest. Runs with search_path = scanner.

-- ---- vulnerability data ----

-- One row: a counter bumped by every import, so results can say which data they were matched
-- against and caches know when to reload.
CREATE TABLE feed_state (
  id int PRIMARY KEY CHECK (id = 1),
  generation bigint NOT NULL DEFAULT 0,
  updated_at timestamptz
);
INSERT INTO feed_state (id) VALUES (1);

CREATE TABLE feed_sources (
  name text PRIMARY KEY,
  format text NOT NULL,
  location text NOT NULL DEFAULT '',
  digest text NOT NULL DEFAULT '',
  etag text NOT NULL DEFAULT '',
  updated_at timestamptz,
  vulnerabilities bigint NOT NULL DEFAULT 0,
  affected bigint NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  last_attempt_at timestamptz
);

CREATE TABLE vulnerabilities (
  id text PRIMARY KEY,
  summary text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  severity smallint NOT NULL DEFAULT 0 CHECK (severity BETWEEN 0 AND 5),
  cvss_vector text NOT NULL DEFAULT '',
  aliases text[] NOT NULL DEFAULT '{}',
  links text[] NOT NULL DEFAULT '{}',
  published_at timestamptz,
  modified_at timestamptz
);

-- One package one vulnerability affects in one ecosystem, as one feed says.
CREATE TABLE affected (
  id bigserial PRIMARY KEY,
  source text NOT NULL,
  vuln_id text NOT NULL,
  ecosystem text NOT NULL,
  package text NOT NULL,
  scheme text NOT NULL,
  ranges jsonb NOT NULL DEFAULT '[]',
  versions text[] NOT NULL DEFAULT '{}',
  severity smallint NOT NULL DEFAULT 0 CHECK (severity BETWEEN 0 AND 5)
);
CREATE INDEX affected_by_ecosystem ON affected (ecosystem, package);
CREATE INDEX affected_by_source ON affected (source, vuln_id);

-- ---- scan queue (every replica claims with FOR UPDATE SKIP LOCKED) ----

CREATE TABLE scan_jobs (
  id bigserial PRIMARY KEY,
  kind text NOT NULL DEFAULT 'scan' CHECK (kind IN ('scan', 'rematch')),
  repository text NOT NULL DEFAULT '',
  digest text NOT NULL DEFAULT '',
  force boolean NOT NULL DEFAULT false,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  not_before timestamptz NOT NULL DEFAULT now(),
  enqueued_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  locked_by text NOT NULL DEFAULT '',
  lease_until timestamptz,
  last_error text NOT NULL DEFAULT ''
);
-- At most one pending job per manifest (and one pending re-match).
CREATE UNIQUE INDEX scan_jobs_one_pending ON scan_jobs (kind, digest) WHERE state IN ('queued', 'running');
CREATE INDEX scan_jobs_ready ON scan_jobs (not_before, id) WHERE state = 'queued';
CREATE INDEX scan_jobs_running ON scan_jobs (lease_until) WHERE state = 'running';

-- ---- inventories ----

-- What the scanner kept of a layer (image_paths.h): read once, shared by every image using it.
CREATE TABLE layers (
  digest text PRIMARY KEY,
  compressed_bytes bigint NOT NULL DEFAULT 0,
  uncompressed_bytes bigint NOT NULL DEFAULT 0,
  entry_count bigint NOT NULL DEFAULT 0,
  read_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE layer_entries (
  layer_digest text NOT NULL REFERENCES layers (digest) ON DELETE CASCADE,
  seq int NOT NULL,
  type text NOT NULL CHECK (type IN ('file', 'symlink', 'directory', 'other', 'whiteout', 'opaque')),
  path text NOT NULL,
  data bytea NOT NULL DEFAULT '',
  PRIMARY KEY (layer_digest, seq)
);

-- A platform image (layers, OS, packages) or an index (children).
CREATE TABLE manifests (
  digest text PRIMARY KEY,
  media_type text NOT NULL DEFAULT '',
  repository text NOT NULL DEFAULT '',
  children text[] NOT NULL DEFAULT '{}',
  platform text NOT NULL DEFAULT '',
  layers text[] NOT NULL DEFAULT '{}',
  os jsonb NOT NULL DEFAULT '{}',
  ecosystem text NOT NULL DEFAULT '',
  packages jsonb NOT NULL DEFAULT '[]',
  databases text[] NOT NULL DEFAULT '{}',
  inventoried_at timestamptz
);
CREATE INDEX manifests_children ON manifests USING gin (children);

-- ---- results ----

CREATE TABLE results (
  manifest_digest text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('working', 'done', 'failed')),
  error text NOT NULL DEFAULT '',
  counts bigint[] NOT NULL DEFAULT '{0,0,0,0,0,0}',
  package_count bigint NOT NULL DEFAULT 0,
  ecosystem text NOT NULL DEFAULT '',
  os_name text NOT NULL DEFAULT '',
  scanner_version text NOT NULL DEFAULT '',
  feed_generation bigint NOT NULL DEFAULT 0,
  feed_versions text NOT NULL DEFAULT '',
  has_findings boolean NOT NULL DEFAULT false,
  scanned_at timestamptz,
  matched_at timestamptz
);
CREATE TABLE result_vulns (
  manifest_digest text NOT NULL REFERENCES results (manifest_digest) ON DELETE CASCADE,
  vuln_id text NOT NULL,
  severity smallint NOT NULL,
  package text NOT NULL,
  installed_version text NOT NULL,
  fixed_version text NOT NULL DEFAULT '',
  source_package text NOT NULL DEFAULT '',
  format text NOT NULL,
  arch text NOT NULL DEFAULT '',
  PRIMARY KEY (manifest_digest, vuln_id, package, arch, installed_version)
);
CREATE INDEX result_vulns_page ON result_vulns (manifest_digest, severity DESC, vuln_id, package, arch);

-- Which manifests gained vulnerabilities when the feed reached a generation.
CREATE TABLE rematch_changes (
  id bigserial PRIMARY KEY,
  generation bigint NOT NULL,
  manifest_digest text NOT NULL,
  gained text[] NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rematch_changes_generation ON rematch_changes (generation);
