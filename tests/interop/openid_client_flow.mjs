// The authorization-code flow against a live admit, driven by openid-client (v6, by
// panva), a mainstream OpenID Connect relying-party library for JavaScript, through its
// public API only: discovery, PKCE, the authorization URL, the code grant (which checks
// RFC 9207 `iss`, `state`, PKCE, and the ID token's signature, `nonce`, `at_hash` and
// `auth_time` against `max_age`), UserInfo, refresh, client credentials, an error
// redirect, and RP-initiated logout.
//
// Usage: node openid_client_flow.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD
//          [--post-logout-redirect-uri URI] [--id-token-alg ALG]
//
// The script is its own browser: Node's fetch, a cookie jar, admit's login and consent
// forms filled in and posted, redirects read but never followed to the client. It
// prints one JSON object of what it got; any failure exits non-zero with the error.

import { parseArgs } from 'node:util';
import * as client from 'openid-client';

// The six values are positional whatever they look like: a generated secret may begin
// with '-'. Only what follows them is parsed as options.
const positionals = process.argv.slice(2, 8);
const { values: options } = parseArgs({
  args: process.argv.slice(8),
  options: {
    'post-logout-redirect-uri': { type: 'string' },
    'id-token-alg': { type: 'string' },
  },
});
if (positionals.length !== 6) {
  console.error(
    'usage: node openid_client_flow.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI' +
      ' USERNAME PASSWORD [--post-logout-redirect-uri URI] [--id-token-alg ALG]',
  );
  process.exit(2);
}
const [issuer, clientId, clientSecret, redirectUri, username, password] = positionals;
const postLogoutRedirectUri = options['post-logout-redirect-uri'];

/** A minimal browser: keeps cookies, reads redirects without following them. */
class Browser {
  #cookies = new Map();

  async request(url, form) {
    const headers = {};
    if (this.#cookies.size > 0) {
      headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const init = { headers, redirect: 'manual' };
    if (form) {
      init.method = 'POST';
      init.body = new URLSearchParams(form);
    }
    const response = await fetch(url, init);
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      if (attributes.some((a) => /^max-age=0$/i.test(a)) || value === '') {
        this.#cookies.delete(name);
      } else {
        this.#cookies.set(name, value);
      }
    }
    const location = response.headers.get('location');
    return {
      url: new URL(url),
      status: response.status,
      location: location === null ? null : new URL(location, url),
      body: await response.text(),
    };
  }

  has(cookie) {
    return this.#cookies.has(cookie);
  }
}

const entities = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#x2f': '/' };
const unescape = (s) =>
  s.replace(/&(amp|lt|gt|quot|#39|#x27|#x2f);/gi, (_, e) => entities[e.toLowerCase()]);

function attributes(tag) {
  const found = {};
  for (const [, name, value] of tag.matchAll(/([a-zA-Z-]+)(?:="([^"]*)")?/g)) {
    found[name.toLowerCase()] = value === undefined ? '' : unescape(value);
  }
  return found;
}

/** The page's one form: where it posts, and what a person would submit. */
function fillForm(page) {
  const form = page.body.match(/<form\b([^>]*)>([\s\S]*?)<\/form>/i);
  if (!form) {
    throw new Error(`expected a form at ${page.url} (HTTP ${page.status}): ${page.body}`);
  }
  const { action = '', method = 'get' } = attributes(form[1]);
  if (method.toLowerCase() !== 'post') throw new Error(`form method ${method}`);
  const fields = {};
  for (const [, tag] of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const input = attributes(tag);
    if (input.type === 'hidden') fields[input.name] = input.value ?? '';
    else if (input.name === 'username') fields.username = username;
    else if (input.type === 'password') fields[input.name] = password;
  }
  // Click the button that approves (the consent page's Allow), if there is one.
  for (const [, tag] of form[2].matchAll(/<button\b([^>]*)>/gi)) {
    const button = attributes(tag);
    if (button.name && button.value === 'approve') fields[button.name] = button.value;
  }
  return { action: new URL(action, page.url), fields };
}

/** Follows admit's pages from the authorization URL to the redirect to the client. */
async function authorize(browser, url) {
  const callbackBase = new URL(redirectUri).origin + new URL(redirectUri).pathname;
  const pages = [];
  let page = await browser.request(url);
  for (let step = 0; step < 10; step += 1) {
    if (page.status >= 300 && page.status < 400) {
      const target = page.location;
      if (target.origin + target.pathname === callbackBase) {
        return { callback: target, pages };
      }
      page = await browser.request(target);
    } else if (page.status === 200) {
      const { action, fields } = fillForm(page);
      if (pages.includes(action.pathname)) {
        throw new Error(`${action.pathname} was refused: ${page.body}`);
      }
      pages.push(action.pathname);
      page = await browser.request(action, fields);
    } else {
      throw new Error(`HTTP ${page.status} at ${page.url}: ${page.body}`);
    }
  }
  throw new Error('no redirect to the client after 10 steps');
}

function decodeJwtPart(jwt, index) {
  return JSON.parse(Buffer.from(jwt.split('.')[index], 'base64url').toString());
}

const metadata = { client_secret: clientSecret };
if (options['id-token-alg']) metadata.id_token_signed_response_alg = options['id-token-alg'];
const config = await client.discovery(
  new URL(issuer),
  clientId,
  metadata,
  client.ClientSecretBasic(clientSecret),
  { execute: [client.allowInsecureRequests] },
);

const codeVerifier = client.randomPKCECodeVerifier();
const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email',
  code_challenge: codeChallenge,
  code_challenge_method: 'S256',
  state,
  nonce,
  max_age: '300',
});

const browser = new Browser();
const { callback, pages } = await authorize(browser, authorizationUrl);
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: codeVerifier,
  expectedState: state,
  expectedNonce: nonce,
  maxAge: 300,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
// The old refresh token was rotated away: using it again must fail.
let reuse;
try {
  await client.refreshTokenGrant(config, tokens.refresh_token);
  reuse = 'accepted';
} catch (error) {
  reuse = error.error ?? error.code ?? String(error);
}

const machine = await client.clientCredentialsGrant(config, { scope: 'profile' });

// An error redirect (prompt=none without a session) carries `iss` and `state` too, so
// the library reports the server's error instead of a mix-up or CSRF failure.
const silentState = client.randomState();
const silent = await authorize(
  new Browser(),
  client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state: silentState,
    prompt: 'none',
  }),
);
let promptNone;
try {
  await client.authorizationCodeGrant(config, silent.callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: silentState,
  });
  promptNone = { error: null };
} catch (error) {
  promptNone = { name: error.name, error: error.error ?? null, message: error.message };
}

const endSessionParameters = { id_token_hint: tokens.id_token, state: 'bye' };
if (postLogoutRedirectUri) endSessionParameters.post_logout_redirect_uri = postLogoutRedirectUri;
const endSessionUrl = client.buildEndSessionUrl(config, endSessionParameters);
let logout = null;
if (postLogoutRedirectUri) {
  const page = await browser.request(endSessionUrl);
  logout = {
    status: page.status,
    location: page.location?.href ?? null,
    session_cookie_kept: browser.has('admit_session'),
  };
}

console.log(
  JSON.stringify(
    {
      library: 'openid-client',
      issuer: config.serverMetadata().issuer,
      authorization_url: authorizationUrl.href,
      pages,
      callback: Object.fromEntries(callback.searchParams),
      expected: { state, nonce },
      token_type: tokens.token_type,
      scope: tokens.scope ?? null,
      expires_in: tokens.expiresIn() ?? null,
      id_token_header: decodeJwtPart(tokens.id_token, 0),
      id_token_claims: claims,
      access_token_claims: decodeJwtPart(tokens.access_token, 1),
      userinfo,
      refresh: {
        new_access_token: refreshed.access_token !== tokens.access_token,
        new_refresh_token:
          typeof refreshed.refresh_token === 'string' &&
          refreshed.refresh_token !== tokens.refresh_token,
        id_token_claims: refreshed.id_token ? refreshed.claims() : null,
        reuse_of_old_refresh_token: reuse,
      },
      client_credentials: {
        token_type: machine.token_type,
        scope: machine.scope ?? null,
        refresh_token: machine.refresh_token ?? null,
        access_token_claims: decodeJwtPart(machine.access_token, 1),
      },
      prompt_none_without_session: promptNone,
      end_session_url: endSessionUrl.href,
      logout,
    },
    null,
    2,
  ),
);
