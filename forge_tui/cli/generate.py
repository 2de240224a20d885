"""`forge-tui generate`: plan a generation job from flags, show the plan, and run it once confirmed."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forge_tui.cli.backend_options import NO_FLAGS, BackendFlags, backend_options
from forge_tui.cli.common import JsonOpt, PasswordStdin, UserOpt, command_help, echo, errors, fail
from forge_tui.cli.config_flags import ConfigOpt, flags_with, given, saved
from forge_tui.cli.jobs import DetachOpt, finish, open_jobs, run_in_foreground, start_detached
from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.core.generation import GenerationSpec, SlotSource
    from forge_tui.core.models import DatasetInfo
    from forge_tui.core.templates import TemplateInfo
    from forge_tui.core.topic_tree import TopicNode
    from forge_tui.services.jobs import JobPlan
    from forge_tui.services.workspace import Workspace

EXIT_USAGE = 2
SPREAD_SHOWN = 8  # values shown per slot in the plan's table; the rest are summed up
_TREE_EXISTS = N_("{path} already exists: name a new file for --tree-out (yours may hold edits).")
KINDS = "single|multi-turn|preference|pretraining|tool-calling"
# the flags that set a field of the job's form of the same name (example_kind sets `kind`)
_FORM_FLAGS = (
    "count",
    "example_kind",
    "language",
    "model",
    "paraphrase_model",
    "second_model",
    "temperature",
    "second_temperature",
    "max_tokens",
    "seed",
    "turns",
    "until_pass",
    "judge_rubric",
    "judge_model",
    "threshold",
    "dedup",
    "quotas",
    "max_attempts",
)


@backend_options
@command_help(
    _(
        "Make examples with a model: shows the plan (items, how slot values are spread, five "
        "prompts) and asks before anything is sent, then runs the job in the foreground (or "
        "--detach).\n\n"
        "Exit 0 when every item is done; 1 when some failed or the job was paused or cancelled "
        "meanwhile; 2 for bad input or when not confirmed; 6 when the model server was gone or "
        "the model missing; 130 on Ctrl-C (the job is left paused: `forge-tui jobs resume ID`)."
    )
)
def generate(
    context: typer.Context,
    template: Annotated[str | None, typer.Option("--template", "-t", help=_("Template to fill (name or id)."))] = None,
    topic: Annotated[
        str | None, typer.Option("--topic", help=_("Write about this topic with the built-in topic template."))
    ] = None,
    subtopics: Annotated[
        int | None, typer.Option("--subtopics", min=1, help=_("Expand --topic into this many subtopics first."))
    ] = None,
    depth: Annotated[int, typer.Option("--depth", min=1, max=2, help=_("Levels of subtopics (1 or 2)."))] = 1,
    tree_out: Annotated[
        Path | None,
        typer.Option(
            "--tree-out",
            metavar="PATH",
            help=_(
                "Write the expanded topic tree to PATH as an indented list to edit, and stop; "
                "then use it with --slot topic=tree:PATH."
            ),
        ),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-n", help=_("How many examples to make."))] = 100,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", "-d", help=_("Dataset to fill (default: the current one); made if missing.")),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help=_("Generation model (default: Settings)."))] = None,
    paraphrase_model: Annotated[
        str | None, typer.Option("--paraphrase-model", help=_("Model that paraphrases each prompt first."))
    ] = None,
    second_model: Annotated[
        str | None, typer.Option("--second-model", help=_("Preference pairs: the second answer's model."))
    ] = None,
    second_temperature: Annotated[
        float | None, typer.Option("--second-temperature", help=_("Preference pairs: the second answer's temperature."))
    ] = None,
    temperature: Annotated[float, typer.Option("--temperature", help=_("Sampling temperature."))] = 0.8,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help=_("Most tokens an answer may take (default: Settings)."))
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help=_("Seed of the plan (default: a random one)."))] = None,
    slot: Annotated[
        list[str] | None,
        typer.Option(
            "--slot",
            metavar="NAME=SOURCE",
            help=_(
                "Where a slot's values come from: default, weighted, a+b=combinations, file:PATH[#COLUMN], "
                "dataset:NAME#FIELD, tree:PATH, values:a|b|c or docs:SET (a document set's passages; the "
                "slot 'source' gets each passage's document) (repeatable)."
            ),
        ),
    ] = None,
    example_kind: Annotated[str, typer.Option("--example-kind", metavar=KINDS, help=_("Kind of example."))] = "single",
    turns: Annotated[int, typer.Option("--turns", help=_("Multi-turn: user messages per conversation."))] = 3,
    language: Annotated[
        str | None, typer.Option("--language", metavar="en|zh-TW|NAME", help=_("Language the answers are in."))
    ] = None,
    until_pass: Annotated[
        int | None,
        typer.Option(
            "--until-pass", metavar="N", min=1, help=_("Keep generating until N examples pass the judge and dedup.")
        ),
    ] = None,
    judge_rubric: Annotated[
        str, typer.Option("--judge-rubric", help=_("The judge's rubric (with --judge-model)."))
    ] = "overall",
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model",
            help=_("Judge model: each example is judged as it is made (with --until-pass it decides what passes)."),
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            min=1,
            max=10,
            help=_("The lowest judge score that passes (below it an example is stored rejected)."),
        ),
    ] = 7.0,
    dedup: Annotated[
        float | None,
        typer.Option("--dedup", min=0.01, max=1, help=_("--until-pass: near-duplicates at this similarity fail.")),
    ] = None,
    quotas: Annotated[
        bool, typer.Option("--quotas", help=_("--until-pass: hold weighted slots' weights among the passing examples."))
    ] = False,
    max_attempts: Annotated[
        int | None, typer.Option("--max-attempts", min=1, help=_("--until-pass: attempts at most (default 3 x N)."))
    ] = None,
    config: ConfigOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Start without asking."))] = False,
    detached: DetachOpt = False,
    flags: BackendFlags = NO_FLAGS,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.core.job_configs import GenerateConfig
    from forge_tui.services.endpoints import with_endpoint
    from forge_tui.services.generation_jobs import JobForm, parse_source_entries, parse_sources
    from forge_tui.services.job_configs import with_config

    asking = not yes and sys.stdin.isatty()
    with errors():
        home, workspace, jobs, password = open_jobs(user, password_stdin)
        start = None if config is None else saved(workspace, config, GenerateConfig)
        if start is not None:
            flags = flags_with(flags, start)
            if template is None and topic is None and start.template:
                template = start.template
        if (template is None) == (topic is None):
            raise InvalidInput(_("Give either --template NAME or --topic TEXT."))
        if subtopics is not None and topic is None:
            raise InvalidInput(_("--subtopics expands a --topic."))
        if tree_out is not None and subtopics is None:
            raise InvalidInput(_("--tree-out writes the tree of --topic TEXT --subtopics K."))
        if until_pass is None and (quotas or max_attempts is not None):
            raise InvalidInput(_("--quotas and --max-attempts go with --until-pass N."))
        sources, refs = parse_source_entries(slot or [])
        if start is not None and slot is None:
            sources, refs = parse_sources(start.sources)
        backend = flags.over(workspace.settings.backend())
        if tree_out is not None and topic is not None and subtopics is not None:
            # asked for by name, so nothing to confirm: only the tree is asked of the model
            if tree_out.expanduser().exists():
                raise InvalidInput(_(_TREE_EXISTS).format(path=clip(str(tree_out))))
            chosen_model = model or backend.generation_model or ""
            tree = _expand(workspace, backend, chosen_model, topic, subtopics, depth, language)
            _write_tree(tree_out, tree)
            if as_json:
                echo(json.dumps({"event": "tree", "path": str(tree_out), "leaves": len(tree.leaves())}))
            else:
                use = f"--topic {shlex.quote(tree.topic)} --slot topic=tree:{shlex.quote(str(tree_out))}"
                written = _("Topic tree with {count} leaves written to {path}: edit it, then run {use}.")
                echo(written.format(count=len(tree.leaves()), path=tree_out, use=use))
            return
        target, made = _dataset(workspace, dataset)
        form = JobForm(
            template_id=None,
            dataset_id=target.id if target else 0,
            count=str(count),
            kind=example_kind,
            language=language or "",
            model=model or backend.generation_model or "",
            paraphrase_model=paraphrase_model or "",
            second_model=second_model or "",
            temperature=str(temperature),
            second_temperature="" if second_temperature is None else str(second_temperature),
            max_tokens=str(max_tokens or backend.max_tokens),
            seed="" if seed is None else str(seed),
            turns=str(turns),
            until_pass="" if until_pass is None else str(until_pass),
            judge_rubric=judge_rubric,
            judge_model=judge_model or "",
            threshold=str(threshold),
            dedup="" if dedup is None else str(dedup),
            quotas=quotas,
            max_attempts="" if max_attempts is None else str(max_attempts),
        )
        if start is not None:
            form = with_config(form, start, keep=given(context, *_FORM_FLAGS))
        chosen = _template(workspace, template)
        if topic is not None:
            if subtopics is not None and not yes and not asking:
                raise InvalidInput(_("Expanding a topic asks the model: pass --yes to allow it without a terminal."))
            topics = _topics(workspace, backend, form.model, topic, subtopics, depth, language)
            sources = {**sources, "topic": _values(topics)}
        spec = _spec(workspace, form, chosen, sources, refs)
        plan = with_endpoint(jobs.plan(spec), backend.endpoint)
        _show_plan(plan, spec, made or dataset or "", made is not None, as_json)
        if not yes:
            if not asking:
                fail(_("Nothing was sent: pass --yes to start the job without a terminal."), EXIT_USAGE)
            if not typer.confirm(_("Start the job?"), default=True):
                fail(_("Nothing was sent."), EXIT_USAGE)
        if target is None:
            target = workspace.datasets.create(made or "")
            plan = with_endpoint(jobs.plan(spec.model_copy(update={"dataset_id": target.id})), backend.endpoint)
            if not as_json:
                echo(_("Dataset '{name}' made.").format(name=clip(target.name)))
        job = jobs.create(plan)
        if detached:
            start_detached(home, workspace, password, job.id, flags.argv(), as_json)
            return
        final = run_in_foreground(jobs, job, backend, as_json, workspace)
    finish(final, as_json, event="done")


def _dataset(workspace: Workspace, name: str | None) -> tuple[DatasetInfo | None, str | None]:
    """The dataset to fill, or None and the name of the one to make once the job is confirmed."""
    from forge_tui.core.errors import NotFound

    if name is None:
        current = workspace.datasets.current()
        if current is None:
            raise InvalidInput(_("There is no current dataset: name one with --dataset."))
        return current, None
    try:
        return workspace.datasets.get(name), None
    except NotFound:
        return None, " ".join(name.split())


def _template(workspace: Workspace, name: str | None) -> TemplateInfo:
    from forge_tui.core.generation import TOPIC_TEMPLATE

    return TOPIC_TEMPLATE if name is None else workspace.templates.get(name)


def _topics(
    workspace: Workspace,
    backend: BackendSettings,
    model: str,
    topic: str,
    subtopics: int | None,
    depth: int,
    language: str | None,
) -> list[str]:
    """The topic, or the leaves of the tree the model expands it into."""
    if subtopics is None:
        return [" ".join(topic.split())]
    return _expand(workspace, backend, model, topic, subtopics, depth, language).leaves()


def _expand(
    workspace: Workspace,
    backend: BackendSettings,
    model: str,
    topic: str,
    subtopics: int,
    depth: int,
    language: str | None,
) -> TopicNode:
    from forge_tui.services.backends import BackendService
    from forge_tui.services.topics import expand_topic

    if not model:
        raise InvalidInput(_("No generation model chosen: pick one in Settings or pass --model."))

    async def expand() -> TopicNode:
        remember = workspace.settings.remember_structured_output
        async with BackendService(backend, remember=remember) as service:
            return await expand_topic(service, model, topic, subtopics, depth, language=language)

    return asyncio.run(expand())


def _write_tree(path: Path, tree: TopicNode) -> None:
    """The tree as an indented list in a new file: one already there may hold the user's edits."""
    from forge_tui.core.topic_tree import tree_text

    try:
        with path.expanduser().open("x", encoding="utf-8") as f:
            f.write(tree_text([tree]))
    except FileExistsError:
        raise InvalidInput(_(_TREE_EXISTS).format(path=clip(str(path)))) from None
    except OSError as exc:
        raise InvalidInput(
            _("Cannot write {path}: {reason}.").format(path=clip(str(path)), reason=clip(exc.strerror or str(exc)))
        ) from None


def _values(values: list[str]) -> SlotSource:
    from forge_tui.core.generation import SlotSource

    return SlotSource.of_values(values, "the topic tree")


def _spec(workspace: Workspace, form: Any, template: TemplateInfo, sources: Any, refs: Any) -> GenerationSpec:
    from forge_tui.services.documents import DocumentService
    from forge_tui.services.generation_jobs import dataset_values, spec_from_fields

    datasets = dataset_values(workspace.datasets, workspace.examples)
    documents = DocumentService(workspace.home, workspace.unlocked).passages
    return spec_from_fields(form, template, sources, refs, datasets, documents)


def _show_plan(plan: JobPlan, spec: GenerationSpec, dataset: str, created: bool, as_json: bool) -> None:
    from forge_tui.core.jobs import endpoint_of
    from forge_tui.services.endpoints import choice_text

    spread = {name: dict(counts.most_common()) for name, counts in plan.spread.items()}
    if as_json:
        fields = {"items": len(plan.items), "template": spec.template.name, "model": spec.model}
        fields |= {"kind": spec.kind.value, "seed": spec.seed, "dataset": dataset or None}
        fields |= {"dataset_created": created, "spread": spread, "prompts": plan.prompts}
        fields |= {"endpoint": choice_text(endpoint_of(plan.params))}
        if spec.target_accepted is not None:
            fields |= {"until_pass": spec.target_accepted, "max_attempts": spec.planned_count}
        echo(json.dumps({"event": "plan", **fields}, ensure_ascii=False))
        return
    where = choice_text(endpoint_of(plan.params))
    planned = _("Plan: {count} items of template '{template}' with {model} on {where}.")
    echo(planned.format(count=len(plan.items), template=clip(spec.template.name), model=clip(spec.model), where=where))
    if spec.target_accepted is not None:
        until = _("Until {target} pass: {rule}; at most {attempts} attempts.")
        echo(until.format(target=spec.target_accepted, rule=_passing_rule(spec), attempts=spec.planned_count))
    if created:
        echo(_("Dataset '{name}' does not exist yet and will be made.").format(name=clip(dataset)))
    for name, counts in plan.spread.items():
        values = ngettext("slot {name}: {count} value", "slot {name}: {count} values", len(counts))
        echo(values.format(name=clip(name), count=len(counts)))
        for value, n in counts.most_common(SPREAD_SHOWN):
            echo(f"  {n:>7}  {clip(' '.join(value.split()), 60)}")
        rest = sum(n for _value, n in counts.most_common()[SPREAD_SHOWN:])
        if rest:
            others = _("({count} other values)").format(count=len(counts) - SPREAD_SHOWN)
            echo(f"  {rest:>7}  {others}")
    for number, prompt in enumerate(plan.prompts, 1):
        echo(_("prompt {number}: {prompt}").format(number=number, prompt=clip(" ".join(prompt.split()), 200)))


def _passing_rule(spec: GenerationSpec) -> str:
    rules = []
    if spec.judge is not None:
        scores = _("{model} scores {threshold}+ on '{rubric}'")
        rules.append(
            scores.format(
                model=clip(spec.judge.model), threshold=f"{spec.judge.threshold:g}", rubric=clip(spec.judge.rubric)
            )
        )
    if spec.dedup_threshold is not None:
        rules.append(_("no near-duplicate at {threshold}").format(threshold=f"{spec.dedup_threshold:g}"))
    if spec.quotas:
        rules.append(_("weights held among the passing"))
    return ", ".join(rules)
