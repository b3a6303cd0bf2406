"""One redaction of URLs with credentials, for logs and the store."""

from __future__ import annotations

import pytest

from c2watch.text import redact_url, redact_urls


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://user:pw@hooks.example/in?token=abc&room=7",
            "https://REDACTED@hooks.example/in?token=REDACTED&room=7",
        ),
        ("https://user@hooks.example:8443/in", "https://REDACTED@hooks.example:8443/in"),
        ("http://u:p@[2001:db8::1]:80/x", "http://REDACTED@[2001:db8::1]:80/x"),
        (
            "https://hooks.example/x?api-key=1&X-Amz-Signature=2&sig=3&access_token=4&a=b",
            "https://hooks.example/x?api-key=REDACTED&X-Amz-Signature=REDACTED&sig=REDACTED&access_token=REDACTED&a=b",
        ),
        ("https://hooks.example/in?room=7", "https://hooks.example/in?room=7"),
        ("https://hooks.example/in", "https://hooks.example/in"),
        ("not a url", "not a url"),
        ("http://[broken/x", "http://[broken/x"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown  # redacting twice changes nothing


def test_redact_urls_in_a_message() -> None:
    url = "https://bob:s3cret@hooks.example/a?key=k"
    message = f"InvalidURL: {url} is not valid; retried {url}"
    assert redact_urls(message, [url]) == (
        "InvalidURL: https://REDACTED@hooks.example/a?key=REDACTED is not valid; "
        "retried https://REDACTED@hooks.example/a?key=REDACTED"
    )
