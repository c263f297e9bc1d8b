-- Single-tag deletes (CatalogApi::DeleteTag) delete a manifest and put the same bytes back under
-- its sibling tags. Before the registry delete, the siblings about to be put back are recorded
-- here, so a delete event or a sync pass that sees the registry inside that window keeps those
-- tags and their repository (same ids) instead of removing and re-creating them. A record lives
-- until the delete finishes, or until expires_at if its replica died mid-way.
CREATE TABLE put_backs (
  repository text NOT NULL,
  tag        text NOT NULL,
  digest     text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (repository, tag)
);
CREATE INDEX put_backs_expires_at ON put_backs (expires_at);
