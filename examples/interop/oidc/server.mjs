// A live oidc-provider 9 authorization server for the interop tests:
//   node server.mjs PORT JWKS_FILE CLIENT_ID
// one client, private_key_jwt with ES256, client_credentials only, on
// 127.0.0.1 (started and stopped by pid by tests/interop.rs).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, jwksFile, clientId] = process.argv.slice(2);
const jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  }],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
