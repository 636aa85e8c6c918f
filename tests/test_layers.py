"""The layering contract of pyproject.toml ([tool.importlinter]) holds, and the commands that
build nothing start without the heavy libraries of the stages."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

# Libraries a build needs and `digest --help` or `digest status` do not: loading them takes
# about a second (nltk alone pulls in scipy).
HEAVY = ("nltk", "trafilatura", "sumy", "sklearn", "scipy", "datasketch", "feedparser", "jinja2")


def test_every_module_imports_only_from_the_layers_below_its_own() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", "--no-logo"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_every_module_has_a_layer() -> None:
    """A module left out of the contract could import anything: each one is placed."""
    settings = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = settings["tool"]["importlinter"]["contracts"]
    placed = {name.strip() for layer in contract["layers"] for name in layer.split(":")}
    package = PROJECT / "digest"
    modules = {
        "digest." + (path.parent.name if path.name == "__init__.py" else path.stem)
        for path in [*package.glob("*.py"), *package.glob("*/__init__.py")]
        if path.name not in ("__init__.py", "__main__.py") or path.parent != package
    }
    assert modules - placed == set()
    assert placed - modules == set()


def loaded_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    loaded = loaded_after("import digest.cli")
    assert "digest" in loaded
    assert not loaded & set(HEAVY)


def test_digest_status_loads_no_heavy_library(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    config.write_text('[digest]\nout_dir = "out"\n', encoding="utf-8")
    loaded = loaded_after(
        "from click.testing import CliRunner\n"
        "from digest.cli import main\n"
        f"result = CliRunner().invoke(main, ['status', '--config', {str(config)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'Nächster Lauf' in result.output, result.output"
    )
    assert not loaded & set(HEAVY)


def test_a_build_does_load_the_stages_libraries() -> None:
    # The check above sees what it is meant to: the same probe after importing the pipeline.
    loaded = loaded_after("import digest.pipeline")
    assert {"nltk", "trafilatura", "sumy"} <= loaded
