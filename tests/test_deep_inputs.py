"""Inputs nested or chained deeper than Python's recursion limit are one line, never a
RecursionError traceback: a pulled sdist's pyproject.toml, an index's JSON page, a forged lock,
a chain of micro-packages that import each other; and a wheel with encrypted members."""
import zipfile

import pytest
from conftest import doit, make_tar, sdist_entries, snapshot

from micropkg_tasks.config.project import load_project
from micropkg_tasks.core.graph import MAX_DEPENDENCY_DEPTH, read_dependencies
from micropkg_tasks.errors import ArchiveError, LockError, SourceError
from micropkg_tasks.sources.index import parse_page
from micropkg_tasks.store.lock import parse_lock
from micropkg_tasks.store.tarball import extract_wheel


@pytest.mark.parametrize("value", [
    "[" * 5_000 + "]" * 5_000,  # valid TOML
    "[" * 50_000,  # invalid, and deeper
    "{a = " * 5_000 + "1" + "}" * 5_000,  # inline tables
])
def test_a_deeply_nested_pyproject_in_a_pulled_sdist_is_one_line(tmp_path, value):
    (tmp_path / "pyproject.toml").write_text(f"[tool.micropkg]\ndependencies = {value}\n")
    with pytest.raises(ArchiveError) as info:
        read_dependencies(tmp_path, "pull 'deep-1.0.tar.gz'")
    assert str(info.value).startswith("pull 'deep-1.0.tar.gz': its pyproject.toml is not valid TOML")
    assert "\n" not in str(info.value)


def test_a_deeply_nested_json_index_page_is_one_line():
    body = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(SourceError) as info:
        parse_page(body, "application/vnd.pypi.simple.v1+json", "http://127.0.0.1:1/simple/x/", "http://127.0.0.1:1/simple/")
    assert str(info.value) == "index http://127.0.0.1:1/simple/ gave a malformed JSON page (nested too deep)"


def test_a_deeply_nested_forged_lock_is_one_line(consumer):
    project = load_project(consumer)
    with pytest.raises(LockError) as info:
        parse_lock("version = 1\nx = " + "[" * 5_000 + "]" * 5_000 + "\n", project)
    assert str(info.value).startswith("micropkg.lock is corrupt (") and "\n" not in str(info.value)


def test_a_wheel_with_an_encrypted_member_is_one_line(tmp_path):
    archive = tmp_path / "tidy-1.0-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tidy/__init__.py", b'__version__ = "1.0"\n')
        zf.writestr("tidy-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: tidy\nVersion: 1.0\n")
    data = bytearray(archive.read_bytes())  # zipfile writes no encryption: set the first member's bit 0 by hand
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    archive.write_bytes(bytes(data))
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError) as info:
        extract_wheel(archive, tmp_path / "out", "pull 'tidy.whl'")
    assert str(info.value) == "pull 'tidy.whl': member 'tidy/__init__.py' is encrypted; refusing it"
    assert list((tmp_path / "out").iterdir()) == []


def test_a_dependency_chain_deeper_than_the_limit_is_one_line_and_changes_nothing(consumer):
    folder = consumer / "chain"
    folder.mkdir()
    depth = MAX_DEPENDENCY_DEPTH + 8
    for i in range(depth):
        deps = f'[tool.micropkg]\ndependencies = ["d{i + 1}>=1"]\n' if i + 1 < depth else ""
        make_tar(folder / f"d{i}-1.0.tar.gz", sdist_entries(f"d{i}") + [(f"d{i}-1.0/pyproject.toml", deps.encode())])
    before = snapshot(consumer)
    proc = doit(consumer, "pull", "--source=chain/d0-1.0.tar.gz", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"micro-packages that depend on each other more than {MAX_DEPENDENCY_DEPTH} deep (d0 -> d1 -> d2 -> ...)" \
        in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(consumer) == before
