// A relying party with DPoP-bound tokens (RFC 9449), as a Node.js site would write it with
// openid-client 6: the library makes every proof, retries once with the provider's nonce when
// asked (use_dpop_nonce), and sends the access token with the DPoP scheme. Driven like rp.mjs:
// prints the authorization URL as one JSON line, reads the callback URL from stdin, prints what
// it saw as one JSON line.
//
// usage: node dpop.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
import * as client from 'openid-client';
import { createInterface } from 'node:readline';

const [issuer, clientId, secret, redirectUri] = process.argv.slice(2);

// The test issuer is http://127.0.0.1:…; a deployment is https and needs no such option.
const config = await client.discovery(
  new URL(issuer),
  clientId,
  undefined,
  client.ClientSecretBasic(secret),
  { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
);
const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));

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

// What the provider answered when it refused: the OAuth error, or the challenge's error.
const refusal = async (call) => {
  try {
    await call();
    return 'accepted';
  } catch (e) {
    return e.error ?? e.cause?.[0]?.parameters?.error ?? String(e);
  }
};

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
}, undefined, { DPoP });
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });
const introspected = await client.tokenIntrospection(config, tokens.access_token);

// Someone who has the tokens but not the key.
const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
const asBearer = await refusal(() => client.fetchUserInfo(config, tokens.access_token, claims.sub));
const withOtherKey = await refusal(
  () => client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: thief }));
const refreshWithOtherKey = await refusal(
  () => client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: thief }));

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
const refreshedUserinfo = await client.fetchUserInfo(
  config, refreshed.access_token, claims.sub, { DPoP });

console.log(JSON.stringify({
  sub: claims.sub,
  token_type: tokens.token_type,
  userinfo,
  introspected,
  as_bearer: asBearer,
  with_other_key: withOtherKey,
  refresh_with_other_key: refreshWithOtherKey,
  refreshed_token_type: refreshed.token_type,
  refreshed_userinfo: refreshedUserinfo,
}));
