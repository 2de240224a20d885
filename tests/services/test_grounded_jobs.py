"""A generation job on a document set (`chunk=docs:SET`) against the fake Ollama: every passage asked
about, and every example keeps the passage it was grounded in and where it came from."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.generation import SourceType
from forge_tui.core.job_configs import GenerateConfig
from forge_tui.core.models import Example
from forge_tui.core.starters import PASSAGE_TEMPLATE_NAME
from forge_tui.services.backends import BackendService
from forge_tui.services.documents import DocumentService
from forge_tui.services.generation_jobs import GENERATION_RECIPE, JobForm, spec_from_form
from forge_tui.services.job_configs import config_of_job
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama

FAST = RunOptions(concurrency=4, attempts=3, backoff_s=0.01)


def add_tea(workspace: Workspace, tmp_path: Path) -> DocumentService:
    documents = DocumentService(workspace.home, workspace.unlocked)
    (tmp_path / "green.md").write_text(
        "# Green tea\n\nGreen tea is steamed or pan-fired soon after picking.\n\n"
        "## Brewing\n\nBrew green tea at 75 degrees for two minutes.\n",
        encoding="utf-8",
    )
    (tmp_path / "black.txt").write_text("Black tea is fully oxidised before it is dried.\n", encoding="utf-8")
    documents.add_file(tmp_path / "green.md", "tea")
    documents.add_file(tmp_path / "black.txt", "tea")
    return documents


async def test_examples_of_a_grounded_job_carry_their_passage(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    documents = add_tea(workspace, tmp_path)
    passages = documents.passages("tea")
    assert [(p.document, p.position) for p in passages] == [("black.txt", 0), ("green.md", 0), ("green.md", 1)]
    template = workspace.templates.get(PASSAGE_TEMPLATE_NAME)  # given with the first document
    dataset = workspace.datasets.create("grounded")
    form = JobForm(template_id=template.id, dataset_id=dataset.id, count="6", model="llama3.2", seed="5")
    form.sources = "chunk=docs:tea"
    spec = spec_from_form(form, template, documents=documents.passages)
    assert spec.sources["chunk"].type is SourceType.PASSAGES
    jobs = JobService(workspace.home, workspace.unlocked)
    job = jobs.create(jobs.plan(spec))
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
        final = await jobs.run(job.id, backend, GENERATION_RECIPE, options=FAST)

    assert (final.done, final.failed) == (6, 0)
    made = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]
    by_text = {p.text: p for p in passages}
    assert Counter(e.content.slots["chunk"] for e in made) == {p.text: 2 for p in passages}  # evenly
    for example in made:
        passage = by_text[example.content.slots["chunk"]]
        assert example.content.slots["source"] == passage.document
        assert example.meta.params["passage"] == {**passage.reference(), "slot": "chunk"}
        assert passage.text in example.content.user_prompt
        assert f"Passage from {passage.document}:" in example.content.user_prompt
    sent = [m["content"] for r in fake.requests for m in r["messages"] if m["role"] == "user"]
    assert {p.text for p in passages} == {t for t in by_text if any(t in s for s in sent)}
    # A configuration saved from the job names the set again, not its passages.
    config = config_of_job(jobs, final.id, "grounded")
    assert isinstance(config, GenerateConfig) and config.sources == "chunk=docs:tea"


def test_an_unknown_set_or_no_reader_is_one_sentence(workspace: Workspace, tmp_path: Path) -> None:
    documents = add_tea(workspace, tmp_path)
    template = workspace.templates.get(PASSAGE_TEMPLATE_NAME)
    form = JobForm(template_id=template.id, dataset_id=1, count="2", model="m", sources="chunk=docs:coffee")
    with pytest.raises(NotFound, match=r"^There is no document set named 'coffee'"):
        spec_from_form(form, template, documents=documents.passages)
    with pytest.raises(InvalidInput, match=r"^Passages of a document set cannot be read here\.$"):
        spec_from_form(form, template)
