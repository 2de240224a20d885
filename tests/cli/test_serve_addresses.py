"""Which Host values `forge-tui serve` answers to, and the base URL its page then uses."""

from __future__ import annotations

import pytest

from forge_tui.cli.serve_addresses import Addresses, split_host


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.org", ("example.org", None)),
        ("Example.ORG:8080", ("example.org", 8080)),
        ("[::1]:8000", ("::1", 8000)),
        ("[::ffff:10.0.0.5]:8000", ("10.0.0.5", 8000)),
        ("", None),
        ("a@b:8000", None),
        ("b:80/x", None),
        ("b:http", None),
        ("b:99999", None),
    ],
)
def test_host_headers_are_read_as_host_and_port(value: str, expected: object) -> None:
    assert split_host(value) == expected


def test_loopback_bind_answers_to_loopback_names_on_its_port() -> None:
    addresses = Addresses("127.0.0.1", 8000, machine_name="box")
    assert addresses.base_for("127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert addresses.base_for("LOCALHOST:8000") == "http://localhost:8000"
    assert addresses.base_for("[::1]:8000") == "http://[::1]:8000"
    for refused in ("localhost:8001", "localhost", "box:8000", "evil.example:8000", None):
        assert addresses.base_for(refused) is None, refused


def test_wildcard_bind_also_answers_to_the_connections_address_and_the_machine_name() -> None:
    addresses = Addresses("0.0.0.0", 8000, machine_name="box")
    assert addresses.printed_url == "http://127.0.0.1:8000"
    assert addresses.base_for("192.168.1.5:8000", local_ip="::ffff:192.168.1.5") == "http://192.168.1.5:8000"
    assert addresses.base_for("192.168.1.6:8000", local_ip="192.168.1.5") is None
    assert addresses.base_for("box:8000") == "http://box:8000"
    assert addresses.base_for("evil.example:8000", local_ip="192.168.1.5") is None


def test_a_specific_bind_answers_to_itself_and_the_public_url() -> None:
    addresses = Addresses("10.0.0.2", 80, public_url="https://forge.example/app", machine_name="box")
    assert not Addresses("10.0.0.2", 80).secure and addresses.secure
    assert addresses.base_for("10.0.0.2") == "http://10.0.0.2"
    assert addresses.base_for("10.0.0.2:80") == "http://10.0.0.2:80"
    assert addresses.base_for("forge.example") == "https://forge.example/app"
    assert addresses.base_for("forge.example:443") == "https://forge.example/app"
    for refused in ("127.0.0.1:80", "forge.example:80", "box"):
        assert addresses.base_for(refused) is None, refused
