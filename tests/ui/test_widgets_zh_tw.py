"""The widgets in Traditional Chinese: labels, table headers, card and status texts and their errors are
translated; a language switch redraws them in place (cards, rows and typed values stay); text cut for
display is cut by terminal cells, so a CJK line never runs past its width."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.widgets import Button, Input, Label

from forge_tui import i18n
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import InvalidInput
from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.services.audition import AuditionSession, BatchSpec, Card
from forge_tui.services.backends import BackendService
from forge_tui.ui.localized import redraw_text
from forge_tui.ui.widgets.audition_card import AuditionCard
from forge_tui.ui.widgets.audition_form import AuditionForm
from forge_tui.ui.widgets.card_deck import CardDeck, StatusKeys
from forge_tui.ui.widgets.review_card import folded
from forge_tui.ui.widgets.slot_table import SlotTable
from forge_tui.ui.wrap import cut
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import wait_until

PLAIN = TemplateInfo(id=2, name="Plain", user_prompt="Say hello.")


def switch(app: App[None], language: str) -> None:
    """What the app does on a language switch (Settings or the palette)."""
    i18n.set_language(language)
    redraw_text(app.screen_stack)


class FormHarness(App[None]):
    def compose(self) -> ComposeResult:
        yield AuditionForm("llama3.2", "")


async def test_the_form_in_zh_tw_and_back_keeps_what_was_typed() -> None:
    i18n.set_language("zh_TW")
    app = FormHarness()
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.query_one(AuditionForm)
        form.set_generate_key("F9")
        labels = [str(label.render()) for label in form.query(Label)]
        assert "範本" in labels and "產生模型" in labels
        assert str(form.query_one("#generate", Button).label) == "產生（F9）"
        with pytest.raises(InvalidInput, match="請先選擇範本"):
            form.spec()
        form.query_one("#model", Input).value = "qwen3"
        switch(app, "en")
        await pilot.pause()
        labels = [str(label.render()) for label in form.query(Label)]
        assert "Template" in labels and "Generation model" in labels
        assert str(form.query_one("#generate", Button).label) == "Generate (F9)"
        assert form.query_one("#model", Input).value == "qwen3"
        with pytest.raises(InvalidInput, match="Choose a template first"):
            form.spec()


class DeckHarness(App[None]):
    def compose(self) -> ComposeResult:
        yield CardDeck()


def status(deck: CardDeck) -> str:
    return str(deck.query_one("#batch-status").render())


async def test_cards_in_zh_tw_switch_to_english_in_place(fake: FakeOllama) -> None:
    i18n.set_language("zh_TW")
    app = DeckHarness()
    async with app.run_test(size=(80, 24)) as pilot:
        deck = app.query_one(CardDeck)
        deck.set_keys(StatusKeys(generate="F9", add_starred="F10", add_with_rejected="F11"))
        await wait_until(pilot, lambda: status(deck) == "填好欄位後按 F9 產生。")
        backend = BackendService(BackendSettings(base_url=fake.base_url, generation_model="llama3.2"))
        spec = BatchSpec(template=PLAIN, slots={}, model="llama3.2", batch=2, seed=3)
        session = AuditionSession(backend, spec, concurrency=2, listener=deck.mark)
        deck.show(session)
        await session.run()
        await wait_until(pilot, lambda: all("✓ 完成" in str(w.border_subtitle) for w in deck.card_widgets()))
        widgets = deck.card_widgets()
        assert str(widgets[0].border_title) == "卡片 1 · 原始提示詞"
        await wait_until(pilot, lambda: status(deck) == "2 張卡片：2 個完成 · ★ 已加星號 0 張")
        answers = [w.visible_text() for w in widgets]
        switch(app, "en")
        await wait_until(pilot, lambda: status(deck) == "2 cards: 2 done · ★ 0 starred")
        assert deck.card_widgets() == widgets  # the same widgets, not rebuilt
        assert str(widgets[0].border_title) == "Card 1 · the prompt as written"
        assert all("✓ done" in str(w.border_subtitle) for w in widgets)
        assert [w.visible_text() for w in widgets] == answers


class SlotHarness(App[None]):
    def compose(self) -> ComposeResult:
        yield SlotTable()


async def test_table_headers_follow_the_language_and_keep_the_rows() -> None:
    i18n.set_language("zh_TW")
    app = SlotHarness()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(SlotTable)
        table.show([SlotDef(name="who", description="誰", default="Ada")])
        await pilot.pause()
        assert [c.label.plain for c in table.columns.values()] == ["欄位", "說明", "預設值", "值"]
        switch(app, "en")
        await pilot.pause()
        assert [c.label.plain for c in table.columns.values()] == ["Slot", "Description", "Default", "Values"]
        assert table.row_count == 1 and table.get_row_at(0)[0] == "who"


class CardHarness(App[None]):
    def __init__(self, card: Card) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        yield AuditionCard(self.card)


async def test_a_long_cjk_variation_is_cut_within_the_cards_width() -> None:
    prompt = "請用繁體中文寫一段關於台灣夜市小吃的介紹，包含歷史、特色與推薦的店家。" * 3
    app = CardHarness(Card(index=0, variation=1, prompt=prompt))
    async with app.run_test(size=(40, 24)) as pilot:
        card = app.query_one(AuditionCard)
        await wait_until(pilot, lambda: card.size.width > 0)
        width = card.size.width
        lines = card.visible_text().splitlines()
        assert lines[1].endswith("…")
        assert all(cell_len(line) <= width for line in lines)


def test_cuts_count_cells_not_characters() -> None:
    assert cut("資料集資料集", 5) == "資料…"
    assert cut("dataset", 7) == "dataset" and cut("datasets", 7) == "datase…"
    line = folded("系統提示詞" * 30)
    assert line.endswith("…") and cell_len(line) <= 60
