// A FAPI 2.0 relying party as a bank's Node.js site would write it with openid-client 6: the
// authorization request pushed first (PAR, RFC 9126), private_key_jwt at /par and /token,
// PKCE S256, the code exchanged with a DPoP proof (RFC 9449) and userinfo called with one,
// PS256 ID tokens. Driven like rp.mjs: prints the authorization URL as one JSON line, reads the
// callback URL from stdin, prints what it saw as one JSON line.
//
// usage: RP_PRIVATE_KEY=<ES256 PKCS#8 DER, base64> RP_PRIVATE_KEY_KID=<kid> \
//        node fapi2.mjs ISSUER CLIENT_ID REDIRECT_URI
import * as client from 'openid-client';
import { createInterface } from 'node:readline';

const [issuer, clientId, redirectUri] = process.argv.slice(2);

const key = await crypto.subtle.importKey(
  'pkcs8',
  Buffer.from(process.env.RP_PRIVATE_KEY, 'base64'),
  { name: 'ECDSA', namedCurve: 'P-256' },
  false,
  ['sign'],
);
// The test issuer is http://127.0.0.1:…; a deployment is https and needs no such option.
const config = await client.discovery(
  new URL(issuer),
  clientId,
  { id_token_signed_response_alg: 'PS256' },
  client.PrivateKeyJwt({ key, kid: process.env.RP_PRIVATE_KEY_KID }),
  { execute: [client.allowInsecureRequests] },
);
const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const parameters = {
  redirect_uri: redirectUri,
  scope: 'openid',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
};
const authorize = await client.buildAuthorizationUrlWithPAR(config, parameters);
// The same request sent straight to /authorize, which a fapi2 client may not do.
const unpushed = client.buildAuthorizationUrl(config, parameters);
console.log(JSON.stringify({ authorize: authorize.href, unpushed: unpushed.href }));

const lines = createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => lines.once('line', resolve));
lines.close();

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
}, undefined, { DPoP });
const claims = tokens.claims();
const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0], 'base64url').toString());
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP });

console.log(JSON.stringify({
  sub: claims.sub,
  iss: claims.iss,
  id_token_alg: header.alg,
  token_type: tokens.token_type,
  userinfo,
}));
