-- OAuth2 refresh tokens of the token endpoint (services/auth/refresh_token_store.h).
-- Only the SHA-256 digest of a token is stored. No foreign key to users: the issuer checks on
-- every use that the account still exists, is enabled and has the same name, and the auth
-- schema's identity tables are owned by other migrations.
CREATE TABLE refresh_tokens (
  id           bigserial PRIMARY KEY,
  token_digest bytea       NOT NULL UNIQUE CHECK (octet_length(token_digest) = 32),
  user_id      bigint      NOT NULL,
  username     text        NOT NULL,
  service      text        NOT NULL,
  client_id    text        NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz
);

CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at) WHERE expires_at IS NOT NULL;
