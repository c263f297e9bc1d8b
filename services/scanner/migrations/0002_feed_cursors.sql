-- Where the scanner is in the feeds it follows (the catalog's new-manifest feed): the last
-- processed sequence number, only ever moved forward (compare-and-set by every replica).
CREATE TABLE feed_cursors (
  feed text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
