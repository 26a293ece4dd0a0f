// The reference for bench/run.sh: panva's oidc-provider 9 configured like mykey-connect
// (one confidential client with client_secret_basic and PKCE S256 required, RS256 ID tokens
// from one RSA-2048 key, pairwise subjects by HMAC-SHA256, refresh tokens, introspection,
// the same lifetimes), in-memory adapter, devInteractions for login and consent.
//
// Environment: NODE_OIDC_ISSUER (http://127.0.0.1:PORT), NODE_OIDC_PORT, NODE_OIDC_KEY (PEM
// PKCS#8 RSA-2048 private key file), NODE_OIDC_CLIENT (JSON file with client_id,
// client_secret, redirect_uri), NODE_OIDC_EC_KEY (PEM PKCS#8 P-256 private key file) and
// NODE_OIDC_CLIENT_ES256 (a second client, same format, whose ID tokens are ES256: S5E).
import { createHmac, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const issuer = env('NODE_OIDC_ISSUER');
const port = Number(env('NODE_OIDC_PORT'));
const client = JSON.parse(readFileSync(env('NODE_OIDC_CLIENT'), 'utf8'));
const es256Client = JSON.parse(readFileSync(env('NODE_OIDC_CLIENT_ES256'), 'utf8'));
const jwk = createPrivateKey(readFileSync(env('NODE_OIDC_KEY'))).export({ format: 'jwk' });
const ecJwk = createPrivateKey(readFileSync(env('NODE_OIDC_EC_KEY'))).export({ format: 'jwk' });
const pairwiseKey = randomBytes(32);

const clientMetadata = (c, alg) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: [c.redirect_uri],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  subject_type: 'pairwise',
  id_token_signed_response_alg: alg,
});

const provider = new Provider(issuer, {
  clients: [clientMetadata(client, 'RS256'), clientMetadata(es256Client, 'ES256')],
  jwks: {
    keys: [
      { ...jwk, alg: 'RS256', use: 'sig', kid: 'bench-rsa' },
      { ...ecJwk, alg: 'ES256', use: 'sig', kid: 'bench-ec' },
    ],
  },
  // mykey-connect requires PKCE S256 of every client.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  subjectTypes: ['pairwise'],
  // Same construction as mykey-connect: HMAC-SHA256(key, sector ‖ 0x00 ‖ account).
  pairwiseIdentifier: async (ctx, accountId, { sectorIdentifier }) => createHmac('sha256', pairwiseKey)
    .update(`${sectorIdentifier}\0${accountId}`)
    .digest('base64url'),
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  // mykey-connect hands every code-flow client a refresh token, without offline_access.
  issueRefreshToken: async (ctx, oidcClient) => oidcClient.grantTypeAllowed('refresh_token'),
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // mykey-connect's default lifetimes (src/config.rs), in seconds.
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 8 * 3600,
    Session: 8 * 3600,
    Grant: 8 * 3600,
    Interaction: 1800,
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`node-oidc-provider listening on ${issuer}`);
});
