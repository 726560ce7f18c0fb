// node oidc-provider (v9, the certified OpenID provider) configured as comparably to
// admit as its documentation allows, for the comparison in bench/load.sh: a
// confidential client with client_secret_basic and the client-credentials grant, and
// access tokens issued as EdDSA-signed JWTs (RFC 9068) through a resource indicator
// that defaults when the request names none. In-memory storage, production mode.
//
//   node server.mjs PORT CLIENT_SECRET
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port = '18095', secret = 'bench-secret'] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const resource = 'urn:admit-bench:api';
const jwk = (type, options) => generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'svc',
    client_secret: secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'read',
  }],
  // RS256 for ID tokens (its default), Ed25519 for the access tokens measured.
  jwks: { keys: [{ ...jwk('rsa', { modulusLength: 2048 }), use: 'sig', alg: 'RS256' }, { ...jwk('ed25519'), use: 'sig', alg: 'EdDSA' }] },
  scopes: ['openid', 'read'],
  ttl: { ClientCredentials: 600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read',
        audience: resource,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'EdDSA' } },
      }),
    },
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
