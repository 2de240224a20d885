"""Saved configurations as TOML: a round trip keeps every field; a bad file is refused naming its line."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from forge_tui.core.errors import InvalidInput
from forge_tui.core.job_configs import AnyConfig, AugmentConfig, GenerateConfig, JudgeConfig, dumps, loads

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
NAMES = st.text(st.characters(codec="utf-8", min_codepoint=32), min_size=1, max_size=80).filter(
    lambda n: n == n.strip() and n.strip() != ""
)
ENV_NAMES = st.one_of(st.just(""), st.from_regex(r"[A-Z_][A-Z0-9_]{0,20}", fullmatch=True))


def configs() -> st.SearchStrategy[AnyConfig]:
    def of(cls: type[AnyConfig]) -> st.SearchStrategy[AnyConfig]:
        fields = {
            name: (st.booleans() if info.annotation in (bool, "bool") else TEXT)
            for name, info in cls.model_fields.items()
            if name not in ("name", "kind", "api_key_env")
        }
        return st.builds(cls, name=NAMES, api_key_env=ENV_NAMES, **fields)

    return st.one_of(of(GenerateConfig), of(JudgeConfig), of(AugmentConfig))


@given(configs())
@example(JudgeConfig(name="n", fix_model="\r\n", rubric="a\r\nb"))
def test_a_config_written_to_toml_and_read_back_is_equal(config: AnyConfig) -> None:
    assert loads(dumps(config)) == config


def test_numbers_in_a_file_are_read_as_the_form_holds_them() -> None:
    config = loads('name = "n"\nkind = "generate"\ncount = 500\ntemperature = 0.7\nquotas = true\n')
    assert isinstance(config, GenerateConfig)
    assert (config.count, config.temperature, config.quotas) == ("500", "0.7", True)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('name = "n"\nkind = "judge"\napi_key = "sk-1"\n', "line 3: 'api_key' looks like a secret"),
        ('name = "n"\nkind = "generate"\n\nbogus = 1\n', "line 4: bogus: not a setting of a generate configuration"),
        ('name = "n"\nkind = "train"\n', "line 2: kind must be one of generate, augment, judge"),
        ('kind = "judge"\nname = ""\n', "line 2: name: A configuration needs a name"),
        ('name = "n"\nkind = "judge"\napi_key_env = "sk-abc def"\n', "line 3: api_key_env:"),
        ('name = "n"\nkind = "judge"\nmodel = [1]\n', "line 3: model:"),
        ('name = "n"\nkind = \n', "(at line 2, column 8)"),
    ],
)
def test_a_bad_file_is_refused_in_one_sentence_naming_the_line(text: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        loads(text)
    assert said in str(refused.value) and "\n" not in str(refused.value)
