"""Whether a signing secret is strong enough to sign editor tokens: long, and really random.

Length alone says little (40 spaces are 40 characters): a secret must also not be blank, hold no
whitespace, not repeat one character or a few, and not be made of words and patterns a guesser tries
first. The last is zxcvbn's estimate (Dropbox's password strength estimator: dictionaries, keyboard
patterns, repeats, sequences, dates), the same judgement password forms use, instead of a home-made list."""

from __future__ import annotations

from functools import lru_cache

MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10
MIN_GUESSES_LOG10 = 28
"""About 93 bits: a random 32-character hex string scores about 32, `token_urlsafe(32)` about 43."""
HOW_TO_MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'


@lru_cache(maxsize=32)
def secret_problem(secret: str) -> str | None:
    """What is wrong with `secret` as a signing secret, in words; None if nothing. Cached: tokens are
    checked on every request with the same secret, and the estimate takes milliseconds."""
    if not secret.strip():
        return "is blank"
    if any(character.isspace() for character in secret):
        return "must not contain spaces or other whitespace"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"must be at least {MIN_SECRET_LENGTH} characters long"
    distinct = len(set(secret))
    if distinct == 1:
        return "repeats one character"
    if distinct < MIN_DISTINCT_CHARACTERS:
        return f"uses only {distinct} different characters (a random one uses many more)"
    from zxcvbn import zxcvbn  # its word lists load on first use, not when the kit is imported

    if zxcvbn(secret[:100])["guesses_log10"] < MIN_GUESSES_LOG10:
        return "is too easy to guess (words, names, repeats or sequences): it must be random"
    return None
