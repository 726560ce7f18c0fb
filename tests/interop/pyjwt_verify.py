"""Verify an admit access token with PyJWT against admit's live JWKS.

Usage: python3 pyjwt_verify.py ISSUER TOKEN
Prints the verified claims as JSON; exits non-zero when verification fails.
"""
import json
import sys

import jwt  # PyJWT

issuer, token = sys.argv[1], sys.argv[2]
metadata = json.load(__import__("urllib.request").request.urlopen(issuer + "/.well-known/openid-configuration"))
assert metadata["issuer"] == issuer, "discovery names another issuer"
signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(token)
header = jwt.get_unverified_header(token)
assert header["typ"] == "at+jwt", header
claims = jwt.decode(
    token,
    signing_key.key,
    algorithms=[header["alg"]] if header["alg"] in ("EdDSA", "ES256", "RS256") else [],
    audience=issuer,
    issuer=issuer,
    options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
)
print(json.dumps(claims))
