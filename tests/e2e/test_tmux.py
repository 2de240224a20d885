"""The installed `forge-tui` in a real terminal: tmux at 100×30, driven by send-keys only.

Against the fake Ollama server: create the account, create a template with a slot, generate a batch of
3, star two, reject one (which asks again), add the starred cards to the dataset, see them in the
Examples table, export OpenAI JSONL, quit; then read the file.

Every step waits for the screen to show its result before the next key is sent. tmux delivers keys at
once, faster than anyone types: Textual then reads an escape followed by a letter as alt+letter, and a
key that acts through a binding (home, ctrl+k) is matched only after the field let it bubble up, so
letters sent right behind it can land first, or a tab sent behind it makes it act on the next field.
A failure says what the pane showed last.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 100, 30
MODEL = "llama3.2"  # the fake server lists llama3.2:latest
PROMPT = "What is the capital of France?"
EXIT_MARK = "FORGE-TUI-EXIT="
BORDERS = "[│▕▏▎▊]"


class Pane:
    """One tmux server of its own (a private socket, no user config) holding one session."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"forge-e2e-{uuid.uuid4().hex[:12]}"
        self.session = "forge"
        self.screen = ""
        self.socket_path: Path | None = None

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            timeout=10,
            env={k: v for k, v in os.environ.items() if k != "TMUX"},
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}\n{self.report()}")
        return done.stdout

    def start(self, command: str, cwd: Path) -> None:
        self._run("new-session", "-d", "-s", self.session, "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd), command)
        self.socket_path = Path(self._run("display-message", "-p", "-t", self.session, "#{socket_path}").strip())

    def kill(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        if self.socket_path is not None:  # tmux leaves its socket file behind
            self.socket_path.unlink(missing_ok=True)

    def keys(self, *keys: str) -> None:
        """Named keys (Tab, Enter, C-s, F4 …), each sent as the key, not as text."""
        self._run("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        """Literal text."""
        self._run("send-keys", "-t", self.session, "-l", text)

    def capture(self) -> str:
        self.screen = self._run("capture-pane", "-p", "-t", self.session)
        return self.screen

    @property
    def footer(self) -> str:
        """The bottom line: the keys that work where the focus is."""
        lines = self.screen.splitlines()
        return lines[-1] if lines else ""

    def report(self) -> str:
        return f"--- last screen ({WIDTH}×{HEIGHT}) ---\n{self.screen}\n--- end of screen ---"

    def wait_until(self, check: Callable[[str], bool], what: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.capture()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:g} s for {what}\n{self.report()}")
            time.sleep(0.05)

    def wait_for(self, *texts: str, timeout: float = 10.0) -> str:
        """Until every text is on the screen at once."""
        return self.wait_until(lambda s: all(t in s for t in texts), " and ".join(map(repr, texts)), timeout)

    def wait_for_re(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        regex = re.compile(pattern)
        screen = self.wait_until(lambda s: regex.search(s) is not None, f"/{pattern}/", timeout)
        match = regex.search(screen)
        assert match is not None
        return match

    def field(self, label: str) -> str:
        """The value of the form field under `label`: the next line, from the label's column to the next
        border."""
        lines = self.screen.splitlines()
        for above, below in pairwise(lines):
            column = above.find(label)
            if column >= 0:
                return re.split(BORDERS, below[column:], maxsplit=1)[0].strip()
        raise AssertionError(f"no {label!r} on the screen\n{self.report()}")


@pytest.fixture
def pane() -> Iterator[Pane]:
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed (apt-get install tmux); this test drives forge-tui inside it")
    driver = Pane(tmux)
    try:
        yield driver
    finally:
        driver.kill()


def entry_point() -> Path:
    script = Path(sys.executable).parent / "forge-tui"
    if not script.is_file():
        pytest.skip(f"the forge-tui entry point is not installed next to {sys.executable} (pip install -e .)")
    return script


def test_whole_flow_in_tmux(pane: Pane, fast_home_dir: Path, fake: FakeOllama, tmp_path: Path) -> None:
    forge = entry_point()
    out = tmp_path / "capital.jsonl"
    app = shlex.join([
        "env", f"OLLAMA_HOST={fake.base_url}", "TERM=xterm-256color", "COLORTERM=truecolor",
        str(forge), "--home", str(fast_home_dir),
    ])  # fmt: skip
    # After the app the shell says how it ended and keeps the pane open for a last look.
    pane.start(f"{app}; echo {EXIT_MARK}$?; sleep 30", cwd=tmp_path)

    # --- the account ------------------------------------------------------------------------------
    pane.wait_for("Welcome to forge-tui", "Username", "Repeat the password", "Create account")
    pane.type("alice")
    pane.keys("Tab")
    pane.type("Alice")
    pane.keys("Tab")
    pane.type(PASSWORD)
    pane.keys("Tab")
    pane.type(PASSWORD)
    pane.wait_until(lambda s: s.count("•" * len(PASSWORD)) == 2, "both passwords typed")
    assert pane.field("Username") == "alice", pane.report()
    assert pane.field("Display name") == "Alice", pane.report()
    pane.keys("Enter")  # enter in the second password field submits
    pane.wait_for("Store your recovery key", "I have stored it", "c Copy key")
    pane.keys("Enter")  # the button has the focus
    pane.wait_for("dataset: default", "● Ollama", "Alice", "Examples")

    # --- a template with a slot -------------------------------------------------------------------
    pane.keys("t")
    pane.wait_until(lambda s: "filter…" in s and "n New" in pane.footer, "the template list")
    pane.keys("n")
    pane.wait_for("Name of the new template")
    pane.type("Capital")
    pane.keys("Enter")
    pane.wait_for("f4 Add slot", "(empty)")  # the user prompt editor has the focus
    pane.type("What is the capital of {{country}}?")
    pane.wait_for("What is the capital of <country>?", "'country' is used in the prompt but not defined")
    pane.keys("F4")
    pane.wait_for("New slot", "Name (letters, digits, _)")
    pane.type("country")
    pane.keys("Tab")
    pane.type("A country")
    pane.keys("Enter")  # enter in a field accepts the slot
    pane.wait_until(
        lambda s: "A country" in s and "not defined" not in s and "New slot" not in s,
        "the slot in the table",
    )
    pane.keys("C-s")
    pane.wait_until(lambda s: "Saved 'Capital'." in s and "unsaved" not in s, "the template saved")
    # Escape leaves the editor for the list, where the app's keys work again. (Sent at once after
    # an escape, a letter would arrive as alt+letter.)
    pane.keys("Escape")
    pane.wait_until(lambda s: "n New" in pane.footer, "the focus on the template list")

    # --- audition: 3 cards ------------------------------------------------------------------------
    pane.keys("g")
    pane.wait_for("Fill the slots and press ^r", "country — A country", "Generation model")
    assert pane.field("Template").startswith("Capital"), pane.report()
    # The template choice has the focus; then come the slot, the number of cards and the model.
    pane.keys("Tab")
    pane.type("France")
    pane.wait_until(lambda s: pane.field("country —") == "France", "France in the slot field")
    pane.keys("Tab", "Home", "C-k")  # home and ctrl+k must have acted before the next keys go
    pane.wait_until(lambda s: pane.field("Cards") == "", "the number of cards cleared")
    pane.type("3")
    pane.wait_until(lambda s: pane.field("Cards") == "3", "3 cards")
    pane.keys("Tab")
    pane.type(MODEL)
    pane.wait_until(lambda s: pane.field("Generation model").startswith(MODEL), "the model typed")
    assert pane.field("Cards") == "3", pane.report()
    assert pane.field("paraphrasing)") == "", pane.report()  # the prompt is sent as written
    pane.keys("C-r")
    pane.wait_for("3 cards: 3 done · ★ 0 starred", timeout=20)
    assert pane.screen.count(PROMPT) >= 1, pane.report()

    # The first card has the focus: star it and the next, reject the third (it is asked again).
    pane.keys("Space")
    pane.wait_for("★ 1 starred", "★ Card 1")
    pane.keys("j", "Space")
    pane.wait_for("★ 2 starred", "★ Card 2")
    pane.keys("j", "x")
    pane.wait_for_re(r"✓ done[^\n]*· 1 rejected", timeout=20)
    pane.wait_for("3 cards: 3 done · ★ 2 starred")
    assert len(fake.requests) == 4, f"{len(fake.requests)} chat requests\n{pane.report()}"
    pane.keys("C-s")
    # The cards are cleared once added; the focus leaves them, so the app's keys work again.
    pane.wait_until(
        lambda s: (
            "Added 2 examples to 'default'." in s
            and "Fill the slots and press ^r" in s
            and "t Templates" in pane.footer
        ),
        "the starred cards added",
    )

    # --- the Examples table -----------------------------------------------------------------------
    pane.keys("e")
    screen = pane.wait_for("'default': 2 examples", "prompt", "answer")
    # Columns: prompt │ country │ answer │ …; long cells end in "…".
    # (the score, review, flag and source columns leave the prompt little room at 100 columns: "What is …")
    rows = [[cell.strip() for cell in line.split("│")] for line in screen.splitlines() if "What is" in line]
    # The slot column (cut to its width since the score column came) holds the slot value.
    shown_slots = {row[1].removesuffix("…") for row in rows}
    assert len(rows) == 2 and all(shown and "France".startswith(shown) for shown in shown_slots), pane.report()
    shown_answers = {row[2].removesuffix("…") for row in rows}

    # --- export -------------------------------------------------------------------------------------
    pane.keys("x")
    pane.wait_for("Write to", "^e Export", "openai-chat")
    assert pane.field("File type").startswith("jsonl"), pane.report()
    # The format has the focus; then reasoning, review state, minimum score, file type, train share, seed,
    # destination.
    pane.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Home", "C-k")
    pane.wait_until(lambda s: pane.field("Write to") == "", "the destination cleared")
    pane.type(str(out))
    pane.wait_until(lambda s: pane.field("Write to").endswith("capital.jsonl"), "the destination typed")
    # Straight from the field: the screen's ctrl+e comes before the field's own (end of line).
    assert "^e Export" in pane.footer, pane.report()
    pane.keys("C-e")
    pane.wait_for("Wrote 2 records to", timeout=20)

    # --- quit -------------------------------------------------------------------------------------
    pane.keys("C-q")
    exit_code = pane.wait_for_re(re.escape(EXIT_MARK) + r"(\d+)").group(1)
    assert exit_code == "0", pane.report()

    # --- the file -------------------------------------------------------------------------------------
    assert out.is_file(), f"{out} was not written\n{pane.report()}"
    records: list[dict[str, Any]] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 2, f"{records}\n{pane.report()}"
    answers: list[str] = []
    for record in records:
        roles = [m["role"] for m in record["messages"]]
        assert roles[-2:] == ["user", "assistant"], f"{record}\n{pane.report()}"
        user, assistant = record["messages"][-2:]
        assert user["content"] == PROMPT, f"{record}\n{pane.report()}"
        assert isinstance(assistant["content"], str) and assistant["content"].strip(), f"{record}\n{pane.report()}"
        answers.append(assistant["content"])
    assert answers[0] != answers[1], f"{answers}\n{pane.report()}"  # each card had its own seed
    # The rows the table showed are the ones written.
    unwritten = [shown for shown in shown_answers if not any(a.startswith(shown) for a in answers)]
    assert not unwritten, f"{unwritten} not in {answers}\n{pane.report()}"
    for body in fake.requests:
        assert body["model"] == MODEL and body["messages"][-1]["content"] == PROMPT, f"{body}\n{pane.report()}"


def test_review_queue_in_tmux(pane: Pane, fast_home_dir: Path, fake: FakeOllama, tmp_path: Path) -> None:
    """Judged examples waiting for review: open the queue with its key, accept, reject, undo, bulk-accept
    by score, quit; the decisions are in the database."""
    from forge_tui.core.judging import Judgement
    from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.services.workspace import Workspace

    home = open_home(fast_home_dir)
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    scores = (6.0, 3.0, 8.0, 9.0)
    meta = ExampleMeta(review=ReviewState.UNREVIEWED)
    ids = workspace.examples.add_many(
        dataset.id, [(ExampleContent(user_prompt=f"Tell me about river {i}", output=f"River {i} is long."), meta)
                     for i in range(len(scores))],
    )  # fmt: skip
    judged = [
        (i, Judgement(rubric="overall", score=s, reason=f"Scored {s:g}.")) for i, s in zip(ids, scores, strict=True)
    ]
    workspace.examples.set_judgements(dataset.id, judged)
    home.close()

    forge = entry_point()
    app = shlex.join([
        "env", f"OLLAMA_HOST={fake.base_url}", "TERM=xterm-256color", "COLORTERM=truecolor",
        str(forge), "--home", str(fast_home_dir),
    ])  # fmt: skip
    pane.start(f"{app}; echo {EXIT_MARK}$?; sleep 30", cwd=tmp_path)
    pane.wait_for("Unlock forge-tui", "Password")
    pane.type(PASSWORD)
    pane.keys("Enter")
    pane.wait_for("dataset: default", "Alice", "n New")
    pane.keys("q")
    pane.wait_for("Card 1 of 4", "score 3", "Tell me about river 1", "Judge: Scored 3.", "a Accept")
    pane.keys("r")  # river 1 rejected; then river 0 (score 6)
    pane.wait_for("Card 2 of 4", "Tell me about river 0", "✗ 1 rejected")
    pane.keys("a")
    pane.wait_for("Card 3 of 4", "✓ 1 accepted")
    pane.keys("u")  # the acceptance of river 0 taken back
    pane.wait_for("Card 2 of 4", "Tell me about river 0", "✓ 0 accepted", "· unreviewed")
    pane.keys("A")
    pane.wait_for("Accept every example scored at least")
    pane.type("8")
    pane.keys("Enter")
    pane.wait_for("Accept 2 examples scored 8 or above?")
    pane.keys("y")
    pane.wait_for("✓ 2 accepted, ✗ 1 rejected")
    pane.keys("C-q")
    exit_code = pane.wait_for_re(re.escape(EXIT_MARK) + r"(\d+)").group(1)
    assert exit_code == "0", pane.report()

    home = open_home(fast_home_dir)
    try:
        workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
        reviews = [workspace.examples.get(i).meta.review for i in ids]
    finally:
        home.close()
    assert reviews == [ReviewState.UNREVIEWED, ReviewState.REJECTED, ReviewState.ACCEPTED, ReviewState.ACCEPTED]


def test_augment_from_the_examples_screen_with_a_preview(
    pane: Pane, fast_home_dir: Path, fake: FakeOllama, tmp_path: Path
) -> None:
    """`a` on Examples: the augment dialog, an instruction typed, Preview shows three examples before and
    after, Start runs the job into `default-augmented`; quit; the new dataset holds the new answers."""
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.core.models import Example, ExampleContent, ExampleMeta
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.services.settings import SettingsService
    from forge_tui.services.workspace import Workspace

    home = open_home(fast_home_dir)
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    SettingsService(home, workspace.user).save_backend(BackendSettings(base_url=fake.base_url, generation_model=MODEL))
    dataset = workspace.datasets.current()
    assert dataset is not None
    workspace.examples.add_many(
        dataset.id,
        [(ExampleContent(user_prompt=f"Tell me about lake {i}", output=f"Lake {i} is deep."), ExampleMeta())
         for i in range(4)],
    )  # fmt: skip
    home.close()
    fake.fixed_reply = "Lake shallow indeed."

    forge = entry_point()
    app = shlex.join([
        "env", f"OLLAMA_HOST={fake.base_url}", "TERM=xterm-256color", "COLORTERM=truecolor",
        str(forge), "--home", str(fast_home_dir),
    ])  # fmt: skip
    pane.start(f"{app}; echo {EXIT_MARK}$?; sleep 30", cwd=tmp_path)
    pane.wait_for("Unlock forge-tui", "Password")
    pane.type(PASSWORD)
    pane.keys("Enter")
    pane.wait_for("dataset: default", "Alice")
    pane.keys("e")
    pane.wait_for("'default': 4 examples", "Lake 0 is d")
    pane.keys("a")
    pane.wait_for("Augment every example of 'default'", "Instruction", "Preview")
    # the focus is on Instruction
    pane.type("Say it shorter: {{ answer }}")
    pane.wait_for("Say it shorter")
    pane.keys("C-t")
    pane.wait_for("before", "after", "Lake 0 is deep.", "Lake shallow indeed.", timeout=20)
    assert len(fake.requests) == 3
    pane.keys("C-s")
    pane.wait_for("Augment job 1 started", timeout=20)
    home = open_home(fast_home_dir)
    try:
        workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))

        def answers() -> list[str]:
            found = {d.name: d.id for d in workspace.datasets.list()}
            if "default-augmented" not in found:
                return []
            return [
                e.content.output for e in workspace.examples.scan(found["default-augmented"]) if isinstance(e, Example)
            ]

        deadline = time.monotonic() + 20
        while answers() != ["Lake shallow indeed."] * 4:
            assert time.monotonic() < deadline, f"the job did not finish: {answers()}\n{pane.report()}"
            time.sleep(0.1)
    finally:
        home.close()
    pane.keys("C-q")
    exit_code = pane.wait_for_re(re.escape(EXIT_MARK) + r"(\d+)").group(1)
    assert exit_code == "0", pane.report()
