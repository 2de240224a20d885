"""The built wheel carries the styles and the compiled catalogs: install it into a fresh venv and start
the app headless, in English and in Traditional Chinese."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

CHILD_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    import forge_tui
    from forge_tui.services.home import open_home
    from forge_tui.ui.app import ForgeApp
    from forge_tui.ui.resources import styles_dir

    venv_root = Path(sys.prefix).resolve()
    assert Path(forge_tui.__file__).resolve().is_relative_to(venv_root), forge_tui.__file__
    assert styles_dir().resolve().is_relative_to(venv_root), styles_dir()
    assert (styles_dir() / "app.tcss").is_file()
    from forge_tui import i18n
    from forge_tui.i18n import translate
    assert (translate.LOCALE_DIR / "zh_TW" / "LC_MESSAGES" / "forge_tui.mo").is_file()
    translate._compiled = None  # the wheel's .mo is read, never the .po compiled in memory
    i18n.set_language("zh_TW")
    assert i18n._("Wrong password.") == "密碼錯誤。"
    i18n.set_language("en")

    async def main():
        app = ForgeApp(open_home(sys.argv[1]))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            card = app.screen.query_one("#first-run")
            # A rule that only styles/app.tcss sets: the card's rounded border.
            assert card.styles.border_top[0] == "round", card.styles.border_top
            print("STARTED", type(app.screen).__name__)

    asyncio.run(main())
    """
)


def test_wheel_installs_with_styles_and_starts_headless(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    )
    wheel = next(dist.glob("forge_tui-*.whl"))
    with zipfile.ZipFile(wheel) as contents:
        names = contents.namelist()
    assert "forge_tui/locale/zh_TW/LC_MESSAGES/forge_tui.mo" in names
    assert "forge_tui/locale/zh_TW/LC_MESSAGES/forge_tui.po" in names
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # The fresh venv borrows this environment's dependencies (no network, no 2-minute install) but
    # gets its own copy of forge-tui. A path in a .pth file is appended after the venv's own
    # site-packages, and .pth files inside it (such as an editable install's) are not run.
    child_site = next((env_dir / "lib").glob("python3*/site-packages"))
    (child_site / "borrowed_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        check=True,
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[security]\nkdf_memory_kib = 8\nkdf_iterations = 1\n")
    own = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's forge_tui, not a checkout's
    run = subprocess.run(
        [str(python), "-c", CHILD_SCRIPT, str(home)], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=own
    )
    assert run.returncode == 0, run.stderr
    assert "STARTED FirstRunScreen" in run.stdout

    version = subprocess.run([str(env_dir / "bin" / "forge-tui"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("forge-tui "), version.stderr
