"""The import picture: which project app imports which, drawn from the code itself.

    python scripts/import_graph.py            # print the Mermaid diagram
    python scripts/import_graph.py --check    # exit 1 when README.md's picture differs from the code
    python scripts/import_graph.py --write    # rewrite README.md's picture

The apps are drawn in one column, highest first (the order of `LAYERS`, the same order as the layers contract in
`.importlinter`); an arrow means "imports". An arrow that points upward would be a circle in the design, and
`tests/test_architecture.py` fails on it long before anyone looks at the picture.
"""

import argparse
import re
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Highest first: each app may import only the apps below it.
LAYERS = ["api", "analytics", "campaigns", "feedback", "club", "crm", "core"]
BEGIN = "<!-- import-graph:begin (scripts/import_graph.py --write) -->"
END = "<!-- import-graph:end -->"


def app_imports(layers: list[str] = LAYERS) -> set[tuple[str, str]]:
    """(importer, imported) pairs between project apps, from every module of each app (tests excluded)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*layers, cache_dir=None)
    return {
        (importer, imported)
        for importer in layers
        for imported in layers
        if importer != imported and graph.direct_import_exists(importer=importer, imported=imported, as_packages=True)
    }


def upward_imports(edges: set[tuple[str, str]], layers: list[str] = LAYERS) -> list[tuple[str, str]]:
    rank = {app: index for index, app in enumerate(layers)}
    return sorted((a, b) for a, b in edges if rank[a] > rank[b])


def mermaid(edges: set[tuple[str, str]], layers: list[str] = LAYERS) -> str:
    rank = {app: index for index, app in enumerate(layers)}
    lines = ["```mermaid", "flowchart TB"]
    # Invisible links between neighbours keep the apps in one column, highest first.
    lines += [f"    {upper} ~~~ {lower}" for upper, lower in zip(layers, layers[1:])]
    lines += [f"    {a} --> {b}" for a, b in sorted(edges, key=lambda edge: (rank[edge[0]], rank[edge[1]]))]
    lines.append("```")
    return "\n".join(lines)


def readme_picture(text: str) -> str | None:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, flags=re.S)
    return match.group(1).rstrip("\n") if match else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--write", action="store_true")
    options = parser.parse_args()
    edges = app_imports()
    picture = mermaid(edges)
    for importer, imported in upward_imports(edges):
        print(f"upward import: {importer} imports {imported}", file=sys.stderr)
    if not (options.check or options.write):
        print(picture)
        return 0
    text = README.read_text(encoding="utf-8")
    current = readme_picture(text)
    if current is None:
        print(f"README.md has no picture between {BEGIN!r} and {END!r}", file=sys.stderr)
        return 1
    if options.write:
        block = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), flags=re.S)
        README.write_text(block.sub(lambda _match: f"{BEGIN}\n{picture}\n{END}", text), encoding="utf-8")
        return 0
    if current != picture:
        print("README.md's import picture is out of date: run scripts/import_graph.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
