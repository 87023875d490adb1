"""The README stays a five-minute read, and the docs site builds strictly from the code."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_is_short_and_opens_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 350, f"README.md has {len(lines)} lines; move detail into docs/"
    head = "\n".join(lines[:60])
    assert "make run" in head and "make test" in head


def test_every_setting_is_on_the_configuration_page() -> None:
    from rag.config import Settings

    hooks = load_hooks()
    source = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    page = hooks.fill(source)
    assert hooks.SETTINGS_MARKER not in page and "end generated" not in page
    prefix = Settings.model_config["env_prefix"]
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description="
        variable = hooks.env_names(name, field, prefix)[0]
        assert f"`{variable}`" in page, variable
        assert " ".join(field.description.split()) in page, name


def test_every_exit_code_of_the_cli_is_in_its_table() -> None:
    import rag.cli

    table = load_hooks().exit_code_table()
    codes = {code for _, code in rag.cli.EXIT_CODES}
    codes |= {v for k, v in vars(rag.cli).items() if k.startswith("EXIT_") and isinstance(v, int)}
    for code in codes:
        assert f"\n| {code} |" in table, code


def test_the_docs_site_builds_in_strict_mode(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs or mkdocs-material is not installed: pip install -e '.[dev]'")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    configuration = (site / "configuration.html").read_text(encoding="utf-8")
    from rag.config import Settings

    for name in Settings.model_fields:
        assert f'id="rag_{name}"' in configuration, name
    assert (site / "chat-page.png").is_file() and (site / "open-webui-answer.png").is_file()
