"""Unit tests of the store and the core decisions (issue #13): ``decide``, the lock's round trip
and checks, and the journaled transaction. Faults come from real processes (a SIGKILL at a
fault point, ``_MICROPKG_TEST_KILL_AT``), forged locks are tried through real ``doit`` runs."""
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest
from conftest import add_manifest, clean_env, doit, make_tar, sdist_entries, snapshot

from micropkg_tasks.config.project import load_project
from micropkg_tasks.core.install import Decision, decide
from micropkg_tasks.errors import ApplyError, LockError
from micropkg_tasks.store import state as store_state
from micropkg_tasks.store import transaction
from micropkg_tasks.store.lock import (
    LOCK_VERSION,
    LockEntry,
    install_roots,
    parse_lock,
    render_lock,
)

H1, H2, HX = "1" * 64, "2" * 64, "f" * 64


# -- core.install.decide -----------------------------------------------------------------------

@pytest.mark.parametrize("plan,recorded,current,owners,expected", [
    pytest.param({"a": H1, "b": H2}, {}, {"a": None, "b": None}, {},
                 Decision(("a", "b"), (), (), (), {"a": H1, "b": H2}), id="fresh"),
    pytest.param({"a": H1}, {"a": H1}, {"a": H1}, {}, Decision((), (), (), (), {"a": H1}), id="re-pull"),
    pytest.param({"a": H2, "new": H1}, {"a": H1, "gone": H2}, {"a": H1, "gone": H2, "new": None}, {},
                 Decision(("a", "new"), ("gone",), (), (), {"a": H2, "new": H1}), id="upgrade"),
    pytest.param({"a": H1}, {"a": H1}, {"a": None}, {}, Decision(("a",), (), (), (), {"a": H1}), id="restore-deleted"),
    pytest.param({"a": H2}, {"a": H1}, {"a": HX}, {},
                 Decision(("a",), (), ("a (changed since it was pulled)",), (), {"a": H2}), id="user-edit"),
    pytest.param({"a": H2}, {}, {"a": HX}, {},
                 Decision(("a",), (), ("a (not installed by a pull)",), (), {"a": H2}, adopted=("a",)),
                 id="foreign"),
    pytest.param({"a": H2, "b": H1}, {}, {"a": H2, "b": None}, {},
                 Decision(("b",), (), (), ("a",), {"b": H1}), id="users-identical-file-is-never-owned"),
    pytest.param({"a": H2}, {}, {"a": None}, {"a": "other"},
                 Decision((), (), (), (), {}, blocked=("a (installed by other)",)), id="owned-by-another"),
    pytest.param({}, {"gone": H1}, {"gone": HX}, {},
                 Decision((), ("gone",), ("gone (changed since it was pulled)",)), id="edited-then-dropped"),
    pytest.param({}, {"gone": H1}, {"gone": None}, {}, Decision((), (), ()), id="dropped-already-missing"),
])
def test_decide(plan, recorded, current, owners, expected):
    decision = decide(plan, recorded, current, owners, "tidy")
    assert decision == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.writes = ()  # type: ignore[misc]


@pytest.mark.parametrize("plan,recorded,current,expected", [
    pytest.param({"a": H1, "b": H2}, {"a": H1, "b": H1}, {"a": None, "b": H1},
                 Decision(("b",), (), (), (), {"a": H1, "b": H2}, ("a",)), id="deleted-and-unchanged-stays-deleted"),
    pytest.param({"a": H2}, {"a": H1}, {"a": None},
                 Decision(("a",), (), ("a (deleted since it was pulled; the new version changes it)",), (), {"a": H2}),
                 id="deleted-and-changed-is-a-conflict"),
    pytest.param({"a": H1}, {}, {"a": None}, Decision(("a",), (), (), (), {"a": H1}), id="new-file-is-written"),
])
def test_an_upgrade_treats_a_deletion_as_an_edit(plan, recorded, current, expected):
    assert decide(plan, recorded, current, {}, "tidy", keep_deleted=set(recorded)) == expected
    assert decide(plan, recorded, current, {}, "tidy").kept_deleted == ()  # a repair (or --force) restores


def test_decide_adopts_identical_files_only_when_forced():
    decision = decide({"a": H2}, {}, {"a": H2}, {}, "tidy", adopt=True)
    assert decision == Decision((), (), (), (), {"a": H2}, adopted=("a",))


def test_adopted_files_stay_adopted_and_are_released_never_deleted_when_dropped():
    # an upgrade keeps an adopted file adopted; one that drops it leaves it in place (released)
    assert decide({"a": H1, "b": H1}, {"a": H2, "b": H2}, {"a": H2, "b": H2}, {}, "tidy",
                  adopted={"a"}) == Decision(("a", "b"), (), (), (), {"a": H1, "b": H1}, adopted=("a",))
    assert decide({"b": H1}, {"a": H2, "b": H2}, {"a": HX, "b": H2}, {}, "tidy", adopted={"a"}) == \
        Decision(("b",), (), (), (), {"b": H1}, released=("a",))  # edited or not: never a conflict, never deleted


def test_force_never_takes_another_pulls_file():
    decision = decide({"a": H1}, {}, {"a": H1}, {"a": "other"}, "tidy", adopt=True)
    assert decision.blocked == ("a (installed by other)",) and "a" not in decision.owned and decision.writes == ()


# -- the lock ----------------------------------------------------------------------------------

def _entry(**changes):
    files = {"src/consumer/tidy/__init__.py": H1, "tests/tidy/test_a.py": H2, "conf/base/parameters_tidy.yml": HX}
    return LockEntry(**{"module": "tidy", "source": 'dist/t "quoted" é\\x.tar.gz', "sha256": H1, "name": "tidy",
                        "version": "1.0", "requirements": ("pyyaml>=6", 'attrs; python_version >= "3.9"'),
                        "added": ("pyyaml>=6",), "files": files, **changes})


def test_lock_round_trip(consumer):
    project = load_project(consumer)
    entries = {"tidy": _entry(),
               "lib.other": _entry(module="lib.other", alias="other", destination="lib", env="local", files={
                   "src/consumer/lib/other/__init__.py": H2, "conf/local/parameters_other.yml": H1},
                   source="other>=1", index="https://index.example/simple",
                   deleted=("conf/local/parameters_other.yml",))}
    text = render_lock(entries)
    assert parse_lock(text, project) == entries
    assert render_lock(parse_lock(text, project)) == text  # stable: the same text every time
    assert "version = 2" in text.splitlines()  # index: a field of version 2
    assert "version = 1" in render_lock({"tidy": _entry()}).splitlines()  # older releases read it
    adopted = {"tidy": _entry(adopted=("conf/base/parameters_tidy.yml",), dependencies=("lib.other",))}
    newer = render_lock(adopted)
    assert f"version = {LOCK_VERSION}" in newer.splitlines() and LOCK_VERSION == 3  # adopted, dependencies: 3
    assert parse_lock(newer, project) == adopted and 'adopted = ["conf/base/parameters_tidy.yml"]' in newer
    assert text.count("index = ") == 1  # recorded only where a requirement came from a named index
    with pytest.raises(LockError, match="index of 'lib.other' has control characters"):
        parse_lock(text.replace("https://index.example/simple", "https://index.example/\\u001b[2J"), project)
    assert install_roots(project, "lib.other", "local") == ("src/consumer/lib/other", "tests/lib/other", "conf/local")


@pytest.mark.parametrize("version", ["4", "0", '"1"', "true", None])
def test_a_lock_of_another_version_is_refused_in_one_line(consumer, version):
    project = load_project(consumer)
    text = render_lock({"tidy": _entry()}).replace("version = 1\n",
                                                  f"version = {version}\n" if version else "")
    with pytest.raises(LockError, match="this micropkg-tasks reads versions 1 to 3") as err:
        parse_lock(text, project)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("line,message", [
    ('adopted = "conf/base/parameters_tidy.yml"', "field 'adopted' must be an array of strings"),
    ('adopted = ["conf/base/other.yml"]', "'adopted' of 'tidy' lists a file it does not install"),
    ("dependencies = [1]", "field 'dependencies' must be an array of strings"),
    ('dependencies = ["../x"]', "dependency '../x' of 'tidy' is not the module path of another micro-package"),
    ('dependencies = ["tidy"]', "dependency 'tidy' of 'tidy' is not the module path"),
])
def test_forged_adopted_and_dependencies_fields_are_refused(consumer, line, message):
    text = render_lock({"tidy": _entry()}).replace('name = "tidy"\n', f'name = "tidy"\n{line}\n', 1)
    with pytest.raises(LockError, match=re.escape(message)) as err:
        parse_lock(text.replace("version = 1", "version = 3"), load_project(consumer))
    assert "\n" not in str(err.value)


def _forged(project, path, module="tidy"):
    entry = _entry(module=module, files={path: H1})
    return render_lock({module: entry})


@pytest.mark.parametrize("path,why", [
    ("../../victim.txt", "has a '..', '.' or empty path component"),
    ("/etc/passwd", "is an absolute path"),
    ("C:/x.py", "is an absolute path"),
    ("src/consumer/tidy/../../../victim.txt", "has a '..', '.' or empty path component"),
    ("src/consumer/tidy/./a.py", "has a '..', '.' or empty path component"),
    ("src/consumer/tidy//a.py", "has a '..', '.' or empty path component"),
    ("src\\consumer\\tidy\\a.py", "has a backslash"),
    ("src/consumer/tidy/a\n.py", "has a NUL, newline or other control character"),
    ("src/consumer/other/a.py", "is outside the folders that pull installs to"),
    ("conf/local/credentials.yml", "is outside the folders that pull installs to"),
    ("pyproject.toml", "is outside the folders that pull installs to"),
    ("src/consumer/tidy", "is outside the folders that pull installs to"),
])
def test_lock_paths_are_checked(consumer, path, why):
    with pytest.raises(LockError, match=re.escape(f"lists {path!r}, which {why}")):
        parse_lock(_forged(load_project(consumer), path), load_project(consumer))


def test_a_lock_path_through_a_symlink_is_refused(consumer, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.py").write_text("victim\n")
    (consumer / "src/consumer/tidy").symlink_to(outside, target_is_directory=True)
    with pytest.raises(LockError, match=re.escape("'src/consumer/tidy/a.py', which passes through a symlink")):
        parse_lock(_forged(load_project(consumer), "src/consumer/tidy/a.py"), load_project(consumer))


def test_a_path_claimed_twice_or_a_module_listed_twice_is_refused(consumer):
    project = load_project(consumer)
    shared = "conf/base/parameters_shared.yml"
    twice = render_lock({"tidy": _entry(files={shared: H1}), "other": _entry(module="other", files={shared: H2})})
    with pytest.raises(LockError, match=f"{shared!r} is claimed by both 'other' and 'tidy'"):
        parse_lock(twice, project)
    one = render_lock({"tidy": _entry()})
    with pytest.raises(LockError, match="module 'tidy' appears twice"):
        parse_lock(one + one.split("\n", 2)[2], project)


@pytest.fixture
def pulled(consumer, tmp_path):
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", files={"a.py": "A = 1\n"}))
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{sdist}" = {{}}')
    doit(consumer, "pull")
    return consumer, sdist


@pytest.mark.parametrize("forged", ["../victim.txt", "ABSOLUTE", "src/consumer/tidy/../../../victim.txt"])
@pytest.mark.parametrize("command", ["clean", "pull --force"])
def test_a_forged_lock_never_deletes_a_file_outside_the_project(pulled, tmp_path, forged, command):
    consumer, sdist = pulled
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    path = str(victim) if forged == "ABSOLUTE" else forged
    lock = consumer / "micropkg.lock"
    digest = hashlib.sha256(victim.read_bytes()).hexdigest()  # the hash matches: clean would delete it
    lock.write_text(lock.read_text().replace("[micropkg.files]\n", f"[micropkg.files]\n{json.dumps(path)} = \"{digest}\"\n"))
    before = snapshot(consumer)
    args = ["clean", f"pull:{sdist}"] if command == "clean" else ["pull", "--force"]
    proc = doit(consumer, *args, check=False)
    out = proc.stdout + proc.stderr
    assert victim.read_text() == "precious\n"
    assert snapshot(consumer) == before and "Traceback" not in out
    refusals = [line for line in out.splitlines() if f"micropkg.lock: 'tidy' lists {path!r}" in line]
    assert len(refusals) == 1 and "the lock was refused and nothing was changed" in refusals[0], out
    if command != "clean":
        assert proc.returncode == 1


# -- the transaction ---------------------------------------------------------------------------

def test_apply_then_recover_is_a_no_op(consumer):
    project = load_project(consumer)
    (consumer / "conf/base/old.yml").write_text("old\n")
    transaction.apply(project, {"src/consumer/tidy/deep/a.py": b"A = 1\n", "conf/base/x.yml": b"x: 1\n"},
                      ["conf/base/old.yml"])
    after = snapshot(consumer)
    assert after["src/consumer/tidy/deep/a.py"] == b"A = 1\n" and "conf/base/old.yml" not in after
    assert not store_state.pending(project.state_dir)
    assert transaction.recover(project) is None
    assert snapshot(consumer) == after


def test_an_apply_that_fails_half_way_is_rolled_back_in_one_line(consumer):
    project = load_project(consumer)
    (consumer / "src/consumer/tidy").write_text("a file where a folder must go\n")
    before = snapshot(consumer)
    with pytest.raises(ApplyError, match=r"could not apply the pull: .*; the project was left as it was") as err:
        transaction.apply(project, {"conf/base/x.yml": b"x\n", "src/consumer/tidy/a.py": b"A\n"}, [])
    assert "\n" not in str(err.value)
    assert snapshot(consumer) == before and not store_state.pending(project.state_dir)


APPLY = """import sys
from pathlib import Path
from micropkg_tasks.config.project import load_project
from micropkg_tasks.store import transaction
transaction.apply(load_project(Path(sys.argv[1])), {"src/consumer/tidy/a.py": b"A = 2\\n",
                  "conf/base/p.yml": b"p: 2\\n", "micropkg.lock": b"# v2\\n"}, ["conf/base/gone.yml"])
"""


def test_a_journal_left_prepared_rolls_back_and_a_committed_one_is_finished(consumer):
    project = load_project(consumer)
    (consumer / "conf/base/p.yml").write_text("p: 1\n")
    (consumer / "conf/base/gone.yml").write_text("g: 1\n")
    (consumer / "micropkg.lock").write_text("# v1\n")
    before = snapshot(consumer)
    outcomes = []
    for point in range(1, 40):
        proc = subprocess.run([sys.executable, "-c", APPLY, str(consumer)], capture_output=True, text=True,
                              check=False, env=clean_env(_MICROPKG_TEST_KILL_AT=str(point)))
        if proc.returncode == 0:
            break
        assert proc.returncode == -9, proc.stderr
        assert store_state.pending(project.state_dir)
        message = transaction.recover(project)
        state = snapshot(consumer)
        if message and message.startswith("rolled back"):
            assert state == before, f"point {point}"
        else:
            assert message is None or message.startswith(("finished", "removed an incomplete journal"))
            assert state in (before, {**{k: v for k, v in before.items() if k != "conf/base/gone.yml"},
                                      "src/consumer/tidy/a.py": b"A = 2\n", "conf/base/p.yml": b"p: 2\n",
                                      "micropkg.lock": b"# v2\n"})
        outcomes.append(message)
        assert not store_state.pending(project.state_dir)
        if state != before:  # undo a completed run for the next point
            for rel, data in before.items():
                (consumer / rel).write_bytes(data)
            (consumer / "src/consumer/tidy/a.py").unlink()
            os.rmdir(consumer / "src/consumer/tidy")
        assert snapshot(consumer) == before
    assert any(m and m.startswith("rolled back") for m in outcomes) and any(m and m.startswith("finished") for m in outcomes)
