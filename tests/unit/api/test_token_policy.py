"""The API token policy: which tokens a served API refuses, and why, in one line."""

from __future__ import annotations

import re

import pytest

from services.api.auth import (
    MIN_TOKEN_LENGTH,
    PLACEHOLDER_WORDS,
    generate_token,
    is_placeholder,
    require_safe_token,
    token_problem,
)
from shared.config import Settings
from shared.errors import ConfigError

SAFE = "9f3e51b0c27d4a86e1f0b5c3d2a7e8f4"  # 32 hex characters, as `openssl rand -hex 16` prints


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("", "is empty"),
        ("change-me", "is a well-known placeholder"),
        ("changeme", "is a well-known placeholder"),
        ("CHANGE_ME", "is a well-known placeholder"),
        ("secret", "is a well-known placeholder"),
        ("password", "is a well-known placeholder"),
        ("token", "is a well-known placeholder"),
        ("admin", "is a well-known placeholder"),
        ("test", "is a well-known placeholder"),
        ("example", "is a well-known placeholder"),
        ("secret123", "is a well-known placeholder"),
        ("your-secret-api-token-goes-here-please", "is a well-known placeholder"),
        ("replace-me-with-a-long-random-string", "is a well-known placeholder"),
        ("newsflow-test-token-0123456789012345", "is a well-known placeholder"),
        ("x" * 40, "is a well-known placeholder"),
        ("1234567890" * 4, "is a well-known placeholder"),
        ("a1b2c3", "is 6 characters long, at least 32 are needed"),
        ("9f3e51b0c27d4a86e1f0b5c3d2a7e8f", "is 31 characters long, at least 32 are needed"),
        (SAFE, None),
        ("Zq7vN2kL9pX4wR8tY3mB6cH1jF5gD0sA", None),
    ],
)
def test_token_problem(token: str, problem: str | None) -> None:
    assert token_problem(token) == problem


def test_only_a_is_spelt_in_hex_so_hex_tokens_are_placeholders_only_when_all_their_letters_are_a() -> None:
    assert [w for w in PLACEHOLDER_WORDS if re.fullmatch("[a-f]+", w)] == ["a"]
    assert is_placeholder("1a2a3a4a5a6a7a8a9a0a1a2a3a4a5a6a")
    assert not is_placeholder("1a2a3a4a5a6a7a8a9a0a1a2a3a4a5a6b")


def test_generated_tokens_are_64_hex_characters_fresh_each_time_and_safe() -> None:
    tokens = {generate_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(re.fullmatch("[0-9a-f]{64}", t) and token_problem(t) is None for t in tokens)
    assert MIN_TOKEN_LENGTH == 32
    assert not any(is_placeholder(t) for t in tokens)


@pytest.mark.parametrize(
    ("token", "read_only", "public_reads", "refused"),
    [
        (SAFE, False, False, False),
        (SAFE, True, True, False),
        ("", True, True, False),  # a read-only API with public reads guards nothing with a token
        ("", False, False, True),
        ("", False, True, True),  # writes are on
        ("", True, False, True),  # private reads need a token
        ("change-me", True, True, True),  # a token that is set must be a real one
    ],
)
def test_require_safe_token(token: str, read_only: bool, public_reads: bool, refused: bool) -> None:
    settings = Settings(api_token=token, api_read_only=read_only, api_public_reads=public_reads)
    if not refused:
        require_safe_token(settings)
        return
    with pytest.raises(ConfigError) as caught:
        require_safe_token(settings)
    assert caught.value.reason == "unsafe_api_token"
    assert "\n" not in caught.value.detail
    assert "`openssl rand -hex 32` or `newsflow api --generate-token`" in caught.value.detail
