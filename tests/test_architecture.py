"""The house rules that keep the layout of DESIGN.md true as the code grows."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

sys.path.insert(0, str(ROOT / "scripts"))
import import_graph  # noqa: E402


def test_it_imports_downward_only_and_keeps_numpy_in_analytics():
    result = subprocess.run([str(BIN / "lint-imports"), str(ROOT / ".importlinter"), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_finds_no_upward_import_between_apps():
    assert import_graph.upward_imports(import_graph.app_imports()) == []


def test_the_readme_picture_is_drawn_from_the_code():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert import_graph.readme_picture(text) == import_graph.mermaid(import_graph.app_imports()), (
        "README.md's import picture is out of date: run scripts/import_graph.py --write")


@pytest.mark.parametrize("app", import_graph.LAYERS)
def test_no_module_of_an_app_passes_about_400_lines(app):
    # Migrations are generated history, not code anyone reads top-down.
    long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 450
    ]
    assert long == []


def where_to_look_paths() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("Where to look for what"):text.index("## Architecture")]
    return [path for path in re.findall(r"`([^`\s]+)`", section) if "/" in path and not path.startswith("<")]


def test_the_readme_where_to_look_table_names_paths_that_exist():
    paths = where_to_look_paths()
    assert len(paths) >= 20
    assert [path for path in paths if not (ROOT / path).exists()] == []
