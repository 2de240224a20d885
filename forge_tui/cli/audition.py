"""`forge-tui audition`: one batch without a terminal UI, for scripts (same session as the screen)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forge_tui.cli.backend_options import NO_FLAGS, BackendFlags, backend_options
from forge_tui.cli.common import (
    JsonOpt,
    PasswordStdin,
    UserOpt,
    command_help,
    echo,
    errors,
    open_home,
    unlock_workspace,
)
from forge_tui.core.batch_defaults import DEFAULT_BATCH, DEFAULT_TEMPERATURE, MAX_BATCH
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from forge_tui.services.audition import AuditionSession, Card


def _slot_values(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(_("--slot takes NAME=VALUE, not '{pair}'.").format(pair=pair))
        values[name.strip()] = value
    return values


def _card_json(card: Card) -> dict[str, Any]:
    from forge_tui.services.audition import calls_to_json

    usage = card.usage
    return {
        "variation": card.prompt,
        "output": card.answer,
        "tool_calls": calls_to_json(card.calls),
        "error": card.error,
        "finish_reason": card.finish_reason,
        "tokens": {
            "prompt": usage.prompt_tokens if usage else None,
            "completion": usage.completion_tokens if usage else None,
        },
        "seconds": round(card.seconds, 3) if card.seconds is not None else None,
        "seed": card.seed,
    }


def _print_text(session: AuditionSession) -> None:
    echo(_("Prompt: {prompt}").format(prompt=session.original))
    for number, variation in enumerate(session.variations[1:], start=1):
        echo(_("Variation {number}: {variation}").format(number=number, variation=variation))
    if session.paraphrase_note:
        echo(session.paraphrase_note)
    for card in session.cards:
        data = _card_json(card)
        heading = dict(number=card.index + 1, state=card.state.value, tokens=data["tokens"]["completion"])
        if card.cut_at_max_tokens:
            echo("\n" + _("--- card {number} ({state}; {tokens} tokens; cut at max tokens)").format(**heading))
        else:
            echo("\n" + _("--- card {number} ({state}; {tokens} tokens)").format(**heading))
        echo(f"> {card.prompt}")
        if card.answer:
            echo(card.answer)
        for call in data["tool_calls"]:
            echo(f"→ {call['name']}({json.dumps(call['arguments'], ensure_ascii=False)})")
        if card.error:
            echo(f"✗ {card.error}")


@backend_options
@command_help(
    _(
        "Paraphrase the template's prompt and generate one answer per variation.\n\n"
        "Exit 0 when every card answered, 1 when some failed (their errors are printed), 6 when "
        "the model server could not be used at all (unreachable, model missing)."
    )
)
def audition(
    template: Annotated[str, typer.Option("--template", "-t", help=_("Template name."))],
    slot: Annotated[
        list[str] | None, typer.Option("--slot", "-s", metavar="NAME=VALUE", help=_("A slot value (repeatable)."))
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", "-n", min=1, max=MAX_BATCH, help=_("How many cards."))
    ] = DEFAULT_BATCH,
    model: Annotated[str | None, typer.Option("--model", help=_("Generation model (default: Settings)."))] = None,
    paraphrase_model: Annotated[
        str | None,
        typer.Option("--paraphrase-model", help=_("Paraphrase model (default: Settings; '' for none).")),
    ] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", help=_("Sampling temperature."))
    ] = DEFAULT_TEMPERATURE,
    seed: Annotated[int | None, typer.Option("--seed", help=_("Batch seed (default: random)."))] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help=_("Tokens per answer at most (default: Settings)."))
    ] = None,
    answer_time_limit: Annotated[
        float | None,
        typer.Option(
            "--answer-time-limit",
            min=0.001,
            metavar="SECONDS",
            help=_("Stop an answer still streaming after this long; what came is kept (default: Settings, 600)."),
        ),
    ] = None,
    add_to: Annotated[
        str | None, typer.Option("--add-to", metavar="DATASET", help=_("Store every successful card there."))
    ] = None,
    flags: BackendFlags = NO_FLAGS,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services.audition import AuditionSession, BatchSpec, CardState
    from forge_tui.services.endpoint_pool import open_client

    with errors():
        home = open_home()
        workspace = unlock_workspace(home, user, password_stdin)  # templates are sealed
        dataset = workspace.datasets.get(add_to) if add_to else None
        settings = flags.over(workspace.settings.backend())
        if answer_time_limit is not None:
            settings = settings.model_copy(update={"answer_time_limit": answer_time_limit})
        spec = BatchSpec(
            template=workspace.templates.get(template),
            slots=_slot_values(slot or []),
            model=model or settings.generation_model or "",
            paraphrase_model=(settings.paraphrase_model if paraphrase_model is None else paraphrase_model) or None,
            batch=batch,
            temperature=temperature,
            seed=seed,
            max_tokens=max_tokens,
        )

        async def run() -> AuditionSession:
            remember = workspace.settings.remember_structured_output
            async with open_client(settings, spec.model, settings.endpoint, remember) as client:
                session = AuditionSession(client, spec, client.settings.concurrency)
                await session.run()
                return session

        session = asyncio.run(run())
        stored = 0
        if dataset is not None:
            done = [c for c in session.cards if c.state is CardState.DONE]
            if done:
                workspace.examples.add_many(dataset.id, [session.example_for(c) for c in done])
            stored = len(done)
    if as_json:
        result: dict[str, Any] = {
            "variations": session.variations[1:],
            "cards": [_card_json(c) for c in session.cards],
        }
        if session.error:
            result["error"] = session.error
        if add_to:
            result["added"] = {"dataset": add_to, "examples": stored}
        echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        if not session.error:
            _print_text(session)
        if add_to:
            added = ngettext("Added {count} example to '{dataset}'.", "Added {count} examples to '{dataset}'.", stored)
            echo("\n" + added.format(count=stored, dataset=add_to))
    if session.error:
        echo(f"forge-tui: {session.error}", err=True)
        raise typer.Exit(6)
    if any(c.state is not CardState.DONE for c in session.cards):
        raise typer.Exit(1)
