// An independent client (panva's jose) for the axum token server:
//   node client.mjs TOKEN_ENDPOINT ISSUER CLIENT_ID PKCS8_PEM_FILE
// signs one private_key_jwt assertion (aud = issuer), POSTs a
// client_credentials request twice (the second is a replay), prints
// "<status> <body>" for each.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';

const [tokenEndpoint, issuer, clientId, pemFile] = process.argv.slice(2);
const key = await importPKCS8(readFileSync(pemFile, 'utf8'), 'ES256');
const assertion = await new SignJWT({})
  .setProtectedHeader({ alg: 'ES256', typ: 'client-authentication+jwt' })
  .setIssuer(clientId).setSubject(clientId).setAudience(issuer)
  .setJti(randomUUID()).setIssuedAt().setExpirationTime('60s')
  .sign(key);
const body = new URLSearchParams({
  grant_type: 'client_credentials',
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: assertion,
});
for (let i = 0; i < 2; i++) {
  const r = await fetch(tokenEndpoint, { method: 'POST', body });
  console.log(`${r.status} ${await r.text()}`);
}
