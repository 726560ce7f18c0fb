"""The authorization-code flow against a live admit, driven by Authlib, a mainstream
OAuth / OpenID Connect client library for Python.

Usage: python3 authlib_flow.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD
         [--post-logout-redirect-uri URI] [--id-token-alg ALG]

Discovery is checked with Authlib's OpenID Provider Metadata rules; the flow uses
Authlib's OAuth2Session (PKCE S256, client_secret_post at the token endpoint, state
checked on the callback); the ID token is checked as Authlib's own OpenID client does
(`OpenIDMixin.parse_id_token`): the signature with joserfc against the live JWKS, allowing
only the registered algorithm (and only if discovery lists it), the claims with
`authlib.oidc.core.CodeIDToken` (issuer, audience, expiry, nonce, azp, at_hash, auth_time
for max_age). Then UserInfo, a refresh, a replay of the rotated refresh token, client
credentials with client_secret_basic, and RP-initiated logout. The script is its own
browser (a requests.Session that keeps cookies and never follows a redirect). It prints
one JSON object of what it got; any failure exits non-zero with the error.

Authlib's `authlib.jose` is deprecated in favour of joserfc (removed in Authlib 2.0), and
Authlib's own ID-token check already uses joserfc, so this script does the same.
"""

import argparse
import base64
import json
import sys
import traceback
import urllib.parse
from html.parser import HTMLParser

import requests
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc import rpinitiated
from authlib.oidc.core import CodeIDToken, UserInfo
from authlib.oidc.discovery import OpenIDProviderMetadata, get_well_known_url
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry


POSITIONAL = ("issuer", "client_id", "client_secret", "redirect_uri", "username", "password")


def arguments():
    """The six values are positional whatever they look like (a generated secret may
    begin with '-'); only what follows them is parsed as options."""
    parser = argparse.ArgumentParser(
        usage=f"%(prog)s {' '.join(n.upper() for n in POSITIONAL)} [options]",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--post-logout-redirect-uri")
    parser.add_argument("--id-token-alg", default="RS256")
    if len(sys.argv) < 1 + len(POSITIONAL):
        parser.error("missing arguments")
    args = parser.parse_args(sys.argv[1 + len(POSITIONAL) :])
    for name, value in zip(POSITIONAL, sys.argv[1:]):
        setattr(args, name, value)
    return args


class Form(HTMLParser):
    """The page's form: its action and what a person would submit."""

    def __init__(self, username, password):
        super().__init__()
        self.username, self.password = username, password
        self.action, self.method, self.fields = None, None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action, self.method = a.get("action", ""), a.get("method", "get").lower()
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("name") == "username":
            self.fields["username"] = self.username
        elif tag == "input" and a.get("type") == "password":
            self.fields[a["name"]] = self.password
        elif tag == "button" and a.get("value") == "approve":
            # The consent page's Allow button.
            self.fields[a["name"]] = a["value"]


def authorize(browser, url, args):
    """Follows admit's pages from the authorization URL to the redirect to the client;
    returns that redirect and the paths of the forms posted on the way."""
    target = urllib.parse.urlsplit(args.redirect_uri)
    pages = []
    response = browser.get(url, allow_redirects=False)
    for _ in range(10):
        if response.is_redirect:
            location = urllib.parse.urljoin(response.url, response.headers["location"])
            parts = urllib.parse.urlsplit(location)
            if (parts.scheme, parts.netloc, parts.path) == target[:3]:
                return location, pages
            response = browser.get(location, allow_redirects=False)
        elif response.status_code == 200:
            form = Form(args.username, args.password)
            form.feed(response.text)
            if form.action is None or form.method != "post":
                raise RuntimeError(f"expected a form to post at {response.url}: {response.text}")
            action = urllib.parse.urljoin(response.url, form.action)
            path = urllib.parse.urlsplit(action).path
            if path in pages:
                raise RuntimeError(f"{path} was refused: {response.text}")
            pages.append(path)
            response = browser.post(action, data=form.fields, allow_redirects=False)
        else:
            raise RuntimeError(f"HTTP {response.status_code} at {response.url}: {response.text}")
    raise RuntimeError("no redirect to the client after 10 steps")


def id_token_claims(id_token, jwks, metadata, args, **params):
    """What Authlib's `OpenIDMixin.parse_id_token` does, allowing only the registered
    algorithm; `params` are CodeIDToken's (nonce, access_token, max_age)."""
    supported = metadata["id_token_signing_alg_values_supported"]
    algorithms = [args.id_token_alg] if args.id_token_alg in supported else []
    token = jwt.decode(
        id_token,
        key=KeySet.import_key_set(jwks),
        registry=JWSRegistry(algorithms=algorithms, strict_check_header=False),
    )
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": args.client_id},
        },
        {"client_id": args.client_id, **params},
    )
    claims.validate(leeway=60)
    return token.header, dict(claims)


def payload(compact):
    """The claims of a JWT, unverified: for the report only."""
    part = compact.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def main():
    args = arguments()
    browser = requests.Session()

    response = browser.get(get_well_known_url(args.issuer, external=True))
    response.raise_for_status()
    metadata = OpenIDProviderMetadata(response.json())
    metadata.validate(metadata_classes=[rpinitiated.OpenIDProviderMetadata])
    if metadata["issuer"] != args.issuer:
        raise RuntimeError(f"discovery names issuer {metadata['issuer']}, not {args.issuer}")
    response = browser.get(metadata["jwks_uri"])
    response.raise_for_status()
    jwks = response.json()
    token_endpoint = metadata["token_endpoint"]

    oauth = OAuth2Session(
        args.client_id,
        args.client_secret,
        scope="openid profile email",
        redirect_uri=args.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
    )
    code_verifier = generate_token(48)
    nonce = generate_token(20)
    authorization_url, state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce, max_age=300
    )

    callback, pages = authorize(browser, authorization_url, args)
    returned = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    # RFC 9207: Authlib leaves the `iss` check to the application.
    if returned.get("iss") != metadata["issuer"]:
        raise RuntimeError(f"callback iss {returned.get('iss')!r}, expected {metadata['issuer']!r}")
    # Checks `state` against the session's and sends the code with the verifier.
    token = oauth.fetch_token(
        token_endpoint,
        authorization_response=callback,
        state=state,
        code_verifier=code_verifier,
    )
    header, claims = id_token_claims(
        token["id_token"],
        jwks,
        metadata,
        args,
        nonce=nonce,
        access_token=token["access_token"],
        max_age=300,
    )

    response = oauth.get(metadata["userinfo_endpoint"])
    response.raise_for_status()
    userinfo = UserInfo(response.json())
    if userinfo["sub"] != claims["sub"]:
        raise RuntimeError(f"UserInfo is about {userinfo['sub']}, the ID token {claims['sub']}")

    first = dict(token)
    refreshed = oauth.refresh_token(token_endpoint, refresh_token=first["refresh_token"])
    refreshed_claims = None
    if "id_token" in refreshed:
        _, refreshed_claims = id_token_claims(
            refreshed["id_token"], jwks, metadata, args, access_token=refreshed["access_token"]
        )
    try:
        oauth.refresh_token(token_endpoint, refresh_token=first["refresh_token"])
        reuse = "accepted"
    except OAuthError as error:
        reuse = error.error

    machine = OAuth2Session(
        args.client_id,
        args.client_secret,
        scope="profile",
        token_endpoint_auth_method="client_secret_basic",
    ).fetch_token(token_endpoint, grant_type="client_credentials")

    logout = None
    end_session = {"id_token_hint": first["id_token"], "state": "bye"}
    if args.post_logout_redirect_uri:
        end_session["post_logout_redirect_uri"] = args.post_logout_redirect_uri
    end_session_url = add_params_to_uri(metadata["end_session_endpoint"], end_session)
    if args.post_logout_redirect_uri:
        response = browser.get(end_session_url, allow_redirects=False)
        logout = {
            "status": response.status_code,
            "location": response.headers.get("location"),
            "session_cookie_kept": "admit_session" in browser.cookies,
        }

    print(
        json.dumps(
            {
                "library": "Authlib",
                "issuer": metadata["issuer"],
                "authorization_url": authorization_url,
                "pages": pages,
                "callback": returned,
                "expected": {"state": state, "nonce": nonce},
                "token_type": first["token_type"],
                "scope": first.get("scope"),
                "expires_in": first.get("expires_in"),
                "id_token_header": header,
                "id_token_claims": claims,
                "access_token_claims": payload(first["access_token"]),
                "userinfo": dict(userinfo),
                "refresh": {
                    "new_access_token": refreshed["access_token"] != first["access_token"],
                    "new_refresh_token": refreshed.get("refresh_token")
                    not in (None, first["refresh_token"]),
                    "id_token_claims": refreshed_claims,
                    "reuse_of_old_refresh_token": reuse,
                },
                "client_credentials": {
                    "token_type": machine["token_type"],
                    "scope": machine.get("scope"),
                    "refresh_token": machine.get("refresh_token"),
                    "access_token_claims": payload(machine["access_token"]),
                },
                "end_session_url": end_session_url,
                "logout": logout,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
