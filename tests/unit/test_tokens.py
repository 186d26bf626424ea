"""SCIM bearer tokens: format, strength, hashing."""

from services.connections import tokens


def test_issued_token_parses_back_to_its_parts():
    token = tokens.issue()
    token_id, secret = tokens.parse(token.plaintext)
    assert token_id == token.token_id
    assert tokens.secret_matches(secret, token.secret_hash)
    assert token.last_four == token.plaintext[-4:]


def test_secret_has_at_least_256_bits():
    _, secret = tokens.parse(tokens.issue().plaintext)
    assert len(secret) * 6 >= 256


def test_only_the_hash_is_kept():
    token = tokens.issue()
    _, secret = tokens.parse(token.plaintext)
    assert secret.encode() not in token.secret_hash and len(token.secret_hash) == 32


def test_tokens_are_unique():
    assert len({tokens.issue().plaintext for _ in range(200)}) == 200


def test_malformed_tokens_do_not_parse():
    for bad in ["", "scimd_", "Bearer x", "scimd_zzzz_abc", "scimd_0123456789abcdef_short", tokens.issue().plaintext + "x"]:
        assert tokens.parse(bad) is None


def test_wrong_secret_does_not_match():
    token = tokens.issue()
    assert not tokens.secret_matches("A" * 43, token.secret_hash)
