"""`forge-tui settings show|set`: the account's Settings without the TUI, checked as the Settings screen
checks them, with no password asked."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def shown(cli: Cli, *args: str) -> dict:  # type: ignore[type-arg]
    result = cli("settings", "show", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_show_lists_the_defaults_and_set_changes_one_key_at_a_time(alice: Cli) -> None:
    before = shown(alice)
    assert before["kind"] == "ollama" and before["base_url"] is None and before["max_tokens"] == 1024
    assert before["structured_output"] == {}
    for key, value, field, stored in [
        ("max_tokens", "512", "max_tokens", 512),
        ("max-tokens", "600", "max_tokens", 600),
        ("url", "http://gpu-box:8000", "base_url", "http://gpu-box:8000"),
        ("kind", "openai", "kind", "openai"),
        ("api_key_env", "VLLM_KEY", "api_key_env", "VLLM_KEY"),
        ("generation_model", "gemma3-270m", "generation_model", "gemma3-270m"),
        ("paraphrase_model", "qwen3:0.6b", "paraphrase_model", "qwen3:0.6b"),
        ("first_byte_timeout", "90.5", "first_byte_timeout", 90.5),
        ("concurrency", "64", "concurrency", 64),
    ]:
        result = alice("settings", "set", key, value)  # no --password-stdin: settings are not sealed
        assert result.exit_code == 0, result.output
        assert shown(alice)[field] == stored
    text = alice("settings", "show").stdout
    assert "url                     http://gpu-box:8000" in text and "max_tokens              600" in text
    assert alice("settings", "set", "max_tokens", "default").exit_code == 0
    assert alice("settings", "set", "api_key_env", "").exit_code == 0
    after = shown(alice)
    assert after["max_tokens"] == 1024 and after["api_key_env"] is None and after["concurrency"] == 64


def test_the_default_url_is_named_when_none_is_set(alice: Cli) -> None:
    text = alice("settings", "show").stdout
    assert "url                     — (default: http" in text


def test_an_unknown_key_is_refused_with_the_list_of_keys(alice: Cli) -> None:
    result = alice("settings", "set", "colour", "blue")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "forge-tui: There is no setting 'colour'; the settings are: kind, url, api_key_env, generation_model, "
        "judge_model, paraphrase_model, first_byte_timeout, between_tokens_timeout, connect_timeout, max_tokens, "
        "answer_time_limit, concurrency, max_retries."
    )
    learned = alice("settings", "set", "structured_output", "{}")
    assert learned.exit_code == 2 and "There is no setting 'structured_output'" in learned.stderr


def test_a_bad_value_is_refused_in_one_sentence_and_changes_nothing(alice: Cli) -> None:
    before = shown(alice)
    for key, value, said in [
        ("max_tokens", "lots", "max_tokens is a whole number between 1 and 1,000,000, not 'lots'"),
        ("max_tokens", "0", "max_tokens is a whole number between 1 and 1,000,000, not '0'"),
        ("first_byte_timeout", "0", "first_byte_timeout is a number above 0, not '0'"),
        ("kind", "vllm", "'vllm' is not a valid kind: input should be 'ollama', 'openai' or 'anthropic'"),
        ("url", "gpu-box:8000", "url starts with http:// or https:// and names a host, not 'gpu-box:8000'"),
    ]:
        result = alice("settings", "set", key, value)
        assert result.exit_code == 2, result.output
        assert result.stderr == f"forge-tui: {said}.\n"
    assert shown(alice) == before


def test_several_accounts_choose_one_with_user(alice: Cli) -> None:
    assert alice("user", "create", "-u", "bob", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    assert alice("settings", "show").exit_code == 2
    assert alice("settings", "set", "max_tokens", "77", "--user", "bob").exit_code == 0
    assert shown(alice, "--user", "bob")["max_tokens"] == 77
    assert shown(alice, "--user", "alice")["max_tokens"] == 1024


def test_the_tui_reads_what_the_command_line_set(alice: Cli, fast_home_dir: object) -> None:
    from pathlib import Path

    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.services.settings import SettingsService

    assert alice("settings", "set", "max_tokens", "333").exit_code == 0
    home = open_home(Path(str(fast_home_dir)))
    try:
        assert SettingsService(home, AccountService(home).get("alice")).backend().max_tokens == 333
    finally:
        home.close()
