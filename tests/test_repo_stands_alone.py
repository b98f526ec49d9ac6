"""The repository stands alone (issue #12): a clone of it, and nothing else, runs and tests the app.

Nothing reads or links outside the tree (the tests once read `../shared/fixtures` and the README linked
`../shared/DESIGN.md`), every relative link in the docs lands on a file of the tree, and production
installs only the runtime requirements: the test tools live in requirements-dev.txt, which `make test`
adds and `make run` does not.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
SKIP = {".git", ".venv", "node_modules", ".test-media", "__pycache__", "staticfiles"}
TEXT = {".py", ".md", ".txt", ".html", ".js", ".css", ".cfg", ".ini", ".toml", ".yml", ".yaml", ".sh", ""}
LINK = re.compile(r"\]\(([^)\s]+)\)")
TEST_TOOLS = ("pytest", "playwright", "hypothesis", "factory_boy", "faker", "responses", "pytest-django", "pytest-xdist")


def _files():
    for path in ROOT.rglob("*"):
        if path.is_file() and not SKIP & set(path.relative_to(ROOT).parts) and path.suffix in TEXT:
            yield path


def test_nothing_reads_or_links_the_shared_folder_outside_the_repo():
    outside = [str(p.relative_to(ROOT)) for p in _files() if p != pathlib.Path(__file__) and "../shared" in p.read_text(errors="replace")]
    assert not outside, outside


def test_every_relative_link_in_the_docs_lands_inside_the_repo_on_a_file_that_exists():
    broken = []
    for doc in ROOT.rglob("*.md"):
        if SKIP & set(doc.relative_to(ROOT).parts):
            continue
        for target in LINK.findall(doc.read_text()):
            if re.match(r"^[a-z]+:|^#|^/", target):  # a URL, an anchor, or a site path the app serves
                continue
            resolved = (doc.parent / target.split("#")[0]).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, broken


def _requirements(name: str) -> set[str]:
    lines = (ROOT / name).read_text().splitlines()
    return {re.split(r"[=<>\[ ;]", line.strip())[0].lower() for line in lines if line.strip() and not line.startswith("#")}


def test_production_requirements_hold_no_test_tools_and_make_run_installs_only_them():
    runtime, dev = _requirements("requirements.txt"), _requirements("requirements-dev.txt")
    assert not runtime & set(TEST_TOOLS), runtime & set(TEST_TOOLS)
    assert {"pytest", "playwright", "hypothesis", "pytest-django"} <= dev
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^install:\s*\$\(VENV\)/\.installed-runtime\s*$", makefile, re.M)
    assert re.search(r"^run:.*\bdemo\b", makefile, re.M) and re.search(r"^demo:\s*migrate", makefile, re.M)
    assert re.search(r"^migrate:\s*install\s*$", makefile, re.M)
    assert re.search(r"^test:\s*install-dev", makefile, re.M)
