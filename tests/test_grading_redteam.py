"""Red team: cheating submissions graded end to end by `tools/labs.py grade` (README, "Grade labs").

Each cheat is the untouched student notebook of lab00 or lab04 (or the solution, for those that also do honest
work) with cells appended that try to get points without the work, or to damage the grading: answers whose
comparisons always hold, float/int/tensor subclasses, replacing otter's runner and inflating scores, calling the
library's reference (directly, by alias, by reloading or by reading its source), looking for the hidden tests,
the masters and other submissions on disk, detached processes that rewrite results afterwards, writing to the
library, the environment and other submissions, a fork bomb, a memory hog, a process left in a new session, and
reading the instructor's command line and secret. All are graded in one run of the command line, with an honest
solution and a blank notebook beside them. Each must score exactly what it honestly earns, leave no process
running, and change no file outside its sandbox: the checkout, the virtual environment and the other
submissions are hashed before and after.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "redteam-leftover-" + secrets.token_hex(4)  # in the command line of every process a cheat leaves
pytestmark = pytest.mark.slow

# --------------------------------------------------------------------------------------------- the cheats

CELLS = Path(__file__).resolve().parent / "redteam"  # one .cell file per cheating cell; never run them here

#: Per lab, each cheating notebook: the cells (files in tests/redteam) appended to the untouched student notebook.
CHEATS = {
    "lab00": {
        "comparisons": ["always_equal", "number_subclasses", "lab00_comparisons"],
        "runner_and_reference": ["replace_the_runner", "lab00_reference"],
        "disk": ["disk"],
        "resources_and_spy": ["fork_bomb", "spy", "lab00_resources"],
    },
    "lab04": {
        "comparisons": ["always_equal", "number_subclasses", "lab04_comparisons"],
        "runner_and_reference": ["replace_the_runner", "lab04_reference"],
        "disk_and_fork_bomb": ["disk", "fork_bomb", "fork_bomb_now"],
        "leftover_then_honest": ["leftover"],
    },
}
HONEST = {"leftover_then_honest"}  # appended to the solution: it earns full marks honestly


def _cheat(base: Path, cells: list[str]) -> nbformat.NotebookNode:
    notebook = nbformat.read(base, as_version=4)
    for name in cells:
        source = (CELLS / f"{name}.cell").read_text(encoding="utf-8").replace("REDTEAM_MARKER", MARKER)
        notebook.cells.append(nbformat.v4.new_code_cell(source))
    return notebook


def _digest(paths: list[Path]) -> dict[str, str]:
    found = {}
    for top in paths:
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in (".git", "__pycache__", "_build", ".pytest_cache")]
            for name in files:
                path = Path(folder, name)
                try:
                    stat = path.lstat()
                except OSError:
                    continue
                if stat.st_size < 1 << 20 and (path.suffix in (".py", ".pth", ".ipynb", ".json", ".txt", ".csv",
                                                                ".toml", ".cfg", ".zip") or stat.st_size < 1 << 14):
                    found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "link"
                else:
                    found[str(path)] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return found


def _leftovers() -> list[str]:
    left = []
    for process in psutil.process_iter(["cmdline", "uids"]):
        command = " ".join(process.info["cmdline"] or [])
        if MARKER in command or "/grader/worker.py" in command:
            left.append(f"{process.pid}: {command[:80]}")
        elif process.info["uids"] and process.info["uids"].real >= 200_000:
            left.append(f"{process.pid} runs as {process.info['uids'].real}")
    return left


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Grade every cheat of both labs with the command line; return per lab the gradebook rows and detail."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("labs_tool_redteam", ROOT / "tools" / "labs.py")
    tool = importlib.util.module_from_spec(spec)
    sys.modules["labs_tool_redteam"] = tool
    spec.loader.exec_module(tool)
    work = tmp_path_factory.mktemp("redteam")
    secret = "instructor-" + secrets.token_hex(16)
    seed_file = work / "instructor-secret.txt"
    seed_file.write_text(secret, encoding="utf-8")
    site = Path(sys.prefix)
    results: dict[str, dict] = {"secret": secret, "seed_file": str(seed_file), "work": str(work)}
    for lab, cheats in CHEATS.items():
        master = tool.masters()[lab]
        built = tool.build(lab, work / f"built-{lab}")
        folder = work / f"submissions-{lab}"
        folder.mkdir()
        shutil.copy(master, folder / "solution.ipynb")
        shutil.copy(built.student, folder / "blank.ipynb")
        for name, cells in cheats.items():
            nbformat.write(_cheat(master if name in HONEST else built.student, cells), folder / f"cheat_{name}.ipynb")
        watched = [ROOT / "src", ROOT / "tools", ROOT / "solutions", ROOT / "labs", ROOT / "tests", site, folder,
                   work / f"built-{lab}"]
        before = _digest(watched)
        out = work / f"gradebook-{lab}.csv"
        command = [sys.executable, str(ROOT / "tools" / "labs.py"), "grade", lab, str(folder), "--seed-file",
                   str(seed_file), "--out", str(out), "--autograder", str(built.autograder), "--jobs", "2",
                   "--timeout", "120", "--call-timeout", "10"]
        env = {key: value for key, value in os.environ.items() if key != "DLTHEORY_GRADING_SECRET"}
        started = time.monotonic()
        run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        assert run.returncode == 0, run.stdout + run.stderr
        gradebook = out.read_text(encoding="utf-8")
        time.sleep(1.0)  # a detached rewriter, were one alive, would have rewritten the gradebook by now
        with open(out, newline="", encoding="utf-8") as stream:
            rows = {row["submission"]: row for row in csv.DictReader(stream)}
        detail = {entry["submission"]: entry for entry in
                  json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["submissions"]}
        results[lab] = {"rows": rows, "detail": detail, "before": before, "after": _digest(watched),
                        "gradebook": gradebook, "gradebook_after": out.read_text(encoding="utf-8"),
                        "seconds": time.monotonic() - started, "cheats": cheats, "leftovers": _leftovers(),
                        "json": out.with_suffix(".json").read_text(encoding="utf-8")}
    return results


@pytest.mark.parametrize("lab", ["lab00", "lab04"])
def test_every_cheat_earns_only_what_it_honestly_earns(graded: dict, lab: str) -> None:
    rows = graded[lab]["rows"]
    assert rows["solution.ipynb"]["percent"] == "100.0", rows["solution.ipynb"]
    assert rows["blank.ipynb"]["percent"] == "0.0", rows["blank.ipynb"]
    for name in graded[lab]["cheats"]:
        row = rows[f"cheat_{name}.ipynb"]
        expected = "100.0" if name in HONEST else "0.0"
        assert row["percent"] == expected, f"{lab} cheat {name} scored {row['percent']}%: {row['detail']}"
        questions = [key for key in row if key.startswith("q")]
        assert all(float(row[q]) <= 3 for q in questions), f"{lab} cheat {name}: a question above its points"


@pytest.mark.parametrize("lab", ["lab00", "lab04"])
def test_cheats_leave_nothing_behind(graded: dict, lab: str) -> None:
    assert graded[lab]["leftovers"] == [], f"processes left running after grading {lab}"
    before, after = graded[lab]["before"], graded[lab]["after"]
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    # The environment, the submissions and the autograder must be byte for byte the same, and in CI (a fresh
    # clone nobody edits) the checkout too. In a working checkout other people may be editing files meanwhile,
    # so there a changed file of the checkout must at least hold nothing a cheat writes.
    checkout = str(ROOT) + os.sep
    strict = changed if os.environ.get("CI") == "true" else [
        path for path in changed if not path.startswith(checkout) or graded["work"] in path]
    assert strict == [], f"grading {lab} changed files outside the sandboxes: {strict[:10]}"
    for path in changed:
        text = Path(path).read_text(errors="replace") if Path(path).is_file() else ""
        assert "CHEAT" not in text and "3333" not in text and "cheat" not in Path(path).name, path
    assert graded[lab]["gradebook"] == graded[lab]["gradebook_after"], "the gradebook changed after grading"
    assert "CHEAT" not in graded[lab]["gradebook_after"]


def _messages(detail: dict, submission: str, question: str | None = None) -> str:
    return " | ".join(test["message"] for test in detail[submission]["tests"]
                      if question is None or test["question"] == question)


def test_cheats_fail_for_the_right_reasons(graded: dict) -> None:
    detail = graded["lab00"]["detail"]
    spied = [test["message"] for test in detail["cheat_resources_and_spy.ipynb"]["tests"] if test["question"] == "q3"]
    assert spied and all("LEAK:none" in message for message in spied), f"the spy found something: {spied}"
    for lab in ("lab00", "lab04"):
        assert graded["secret"] not in graded[lab]["json"] and graded["seed_file"] not in graded[lab]["json"]
    assert "unavailable while grading" in _messages(detail, "cheat_runner_and_reference.ipynb")
    resources = {test["test"]: test for test in detail["cheat_resources_and_spy.ipynb"]["tests"]}
    assert resources["test_q1_returns_every_error"]["verdict"] in ("timeout", "error")  # the fork bomb
    assert "MemoryError" in _messages(detail, "cheat_resources_and_spy.ipynb", "q2")
    assert "cannot be sent" in _messages(detail, "cheat_comparisons.ipynb")
    lab04 = graded["lab04"]["detail"]
    assert "unavailable while grading" in _messages(lab04, "cheat_runner_and_reference.ipynb")
    assert "cannot be sent" in _messages(lab04, "cheat_comparisons.ipynb")


def test_a_later_grading_is_untouched(graded: dict) -> None:
    """After the vandals, the library imports clean in a new process, and the blank lab scored 0."""
    assert graded["lab00"]["rows"]["blank.ipynb"]["percent"] == "0.0"
    result = subprocess.run([sys.executable, "-c", "import builtins, dltheory, dltheory.quadratic, dltheory.labs; "
                             "print(getattr(builtins, 'CHEAT', False))"], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stdout + result.stderr


def test_red_team_takes_a_bounded_time(graded: dict) -> None:
    for lab in ("lab00", "lab04"):
        assert graded[lab]["seconds"] < 300, f"grading the cheats of {lab} took {graded[lab]['seconds']:.0f} s"
