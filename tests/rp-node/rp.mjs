// A relying party as a Node.js site would write it with openid-client 6, from discovery to
// logout. The test drives it: this script prints the authorization URL as one JSON line, reads
// the callback URL the browser came back with from stdin, then runs the code exchange and every
// later step, and prints what it saw as one JSON line.
//
// usage: node rp.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI POST_LOGOUT_REDIRECT_URI
// With RP_PRIVATE_KEY (an ES256 key, PKCS#8 DER in base64) and RP_PRIVATE_KEY_KID set, the
// client authenticates with private_key_jwt instead, and CLIENT_SECRET is ignored.
import * as client from 'openid-client';
import { createInterface } from 'node:readline';

const [issuer, clientId, secret, redirectUri, postLogoutUri] = process.argv.slice(2);

async function authentication() {
  const pkcs8 = process.env.RP_PRIVATE_KEY;
  if (!pkcs8) return client.ClientSecretBasic(secret);
  const key = await crypto.subtle.importKey(
    'pkcs8',
    Buffer.from(pkcs8, 'base64'),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  return client.PrivateKeyJwt({ key, kid: process.env.RP_PRIVATE_KEY_KID });
}

// The test issuer is http://127.0.0.1:…; a deployment is https and needs no such option.
// Non-repudiation checks make the library verify every JWT's signature against the JWKS,
// including the ID token from the token endpoint, which it would otherwise trust over TLS.
const config = await client.discovery(
  new URL(issuer),
  clientId,
  undefined,
  await authentication(),
  { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
);

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorize = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
console.log(JSON.stringify({ authorize: authorize.href }));

const lines = createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => lines.once('line', resolve));
lines.close();

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const introspected = await client.tokenIntrospection(config, tokens.access_token);
const active = async (token) => (await client.tokenIntrospection(config, token)).active;

// Refresh rotates; revoking an access token (RFC 7009) ends it at once; presenting the spent
// refresh token again is refused and revokes what was issued from it.
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const refreshedActive = await active(refreshed.access_token);
await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
const revokedActive = await active(tokens.access_token);
let reused = 'accepted';
try {
  await client.refreshTokenGrant(config, tokens.refresh_token);
} catch (e) {
  reused = e.error ?? String(e);
}
const familyActiveAfterReuse = await active(refreshed.access_token);
const logout = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: postLogoutUri,
  state: 'node-bye',
});

console.log(JSON.stringify({
  claims,
  token_type: tokens.token_type,
  userinfo,
  introspected,
  refreshed_sub: refreshed.claims()?.sub ?? null,
  refreshed_rotates: refreshed.refresh_token !== tokens.refresh_token,
  refreshed_active: refreshedActive,
  revoked_active: revokedActive,
  reused,
  family_active_after_reuse: familyActiveAfterReuse,
  logout: logout.href,
}));
