"""Secret tokens (SCIM bearer tokens, session tokens): format, strength, hashing."""

import pytest

from runtime.secret_tokens import BEARER_TOKENS, SESSION_TOKENS, secret_matches

KINDS = pytest.mark.parametrize("kind", [BEARER_TOKENS, SESSION_TOKENS], ids=["bearer", "session"])


@KINDS
def test_issued_token_parses_back_to_its_parts(kind):
    token = kind.issue()
    token_id, secret = kind.parse(token.plaintext)
    assert token_id == token.token_id
    assert secret_matches(secret, token.secret_hash)
    assert token.last_four == token.plaintext[-4:]


@KINDS
def test_secret_has_at_least_256_bits(kind):
    _, secret = kind.parse(kind.issue().plaintext)
    assert len(secret) * 6 >= 256


@KINDS
def test_only_the_hash_is_kept(kind):
    token = kind.issue()
    _, secret = kind.parse(token.plaintext)
    assert secret.encode() not in token.secret_hash and len(token.secret_hash) == 32


@KINDS
def test_tokens_are_unique(kind):
    assert len({kind.issue().plaintext for _ in range(200)}) == 200


@KINDS
def test_malformed_tokens_do_not_parse(kind):
    prefix = kind.prefix
    for bad in ["", prefix, "Bearer x", f"{prefix}zzzz_abc", f"{prefix}0123456789abcdef_short", kind.issue().plaintext + "x"]:
        assert kind.parse(bad) is None


def test_one_kind_is_never_taken_for_the_other():
    assert BEARER_TOKENS.parse(SESSION_TOKENS.issue().plaintext) is None
    assert SESSION_TOKENS.parse(BEARER_TOKENS.issue().plaintext) is None


def test_wrong_secret_does_not_match():
    assert not secret_matches("A" * 43, BEARER_TOKENS.issue().secret_hash)
