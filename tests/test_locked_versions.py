"""A locked version's bytes are the lock's (issue 19.3): a forged lock URL on another path of the
index's server is not followed, and an index that now serves other bytes under the locked file
name stops the pull."""
import re

from conftest import add_manifest, doit, make_tar, sdist_entries, snapshot

from micropkg_tasks.config.manifest import pull_spec
from micropkg_tasks.sources import locked_url


def test_a_locked_url_must_lie_on_the_index_named_not_only_on_its_host():
    spec = pull_spec("tidy>=1", index="https://host.example/alice/prod/+simple/")
    assert locked_url(spec, "https://host.example/alice/prod/+f/ab/tidy-1.0.tar.gz")
    assert not locked_url(spec, "https://host.example/mallory/dev/+f/ab/tidy-1.0.tar.gz")  # another index there
    assert not locked_url(spec, "https://other.example/alice/prod/+f/ab/tidy-1.0.tar.gz")
    plain = pull_spec("tidy>=1", index="http://127.0.0.1:8080/simple/")  # pypiserver: /simple/ and /packages/
    assert locked_url(plain, "http://127.0.0.1:8080/packages/tidy-1.0.tar.gz")


def test_an_index_serving_other_bytes_for_the_locked_file_stops_the_pull(consumer, tmp_path):
    registry = tmp_path / "registry"
    registry.mkdir()
    make_tar(registry / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
    add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy>=1" = {{index = "{registry}"}}')
    doit(consumer, "pull")
    lock = consumer / "micropkg.lock"
    # as on PyPI, the file the lock records lives elsewhere than the index: pulling again resolves anew
    lock.write_text(re.sub(r'url = "[^"]*"', f'url = "{tmp_path}/files/tidy-1.0.tar.gz"', lock.read_text()))
    make_tar(registry / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", files={"evil.py": "x = 1\n"}))
    (consumer / "src/consumer/tidy/__init__.py").unlink()  # a repair re-pulls the locked version
    before = snapshot(consumer)
    proc = doit(consumer, "pull", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "tidy-1.0.tar.gz has sha256 " in proc.stdout and "that micropkg.lock records; the archive was replaced" in proc.stdout
    assert snapshot(consumer) == before and not (consumer / "src/consumer/tidy/evil.py").exists()


def test_a_remote_index_page_pointing_at_the_local_disk_is_refused():
    from micropkg_tasks.errors import SourceError
    from micropkg_tasks.sources.index import parse_page

    page = b'<a href="file:///etc/passwd#sha256=00">tidy-1.0.tar.gz</a>'
    for index in ("http://127.0.0.1:1/simple/", "https://pypi.example/simple/"):
        try:
            parse_page(page, "text/html", index + "tidy/", index)
        except SourceError as exc:
            assert "lists a file at an unusable URL 'file:///etc/passwd" in str(exc)
        else:
            raise AssertionError("a file:// link on a remote page was accepted")
    local = "file:///srv/index/simple/"  # a local index (pip.conf may name one) may list local files
    assert parse_page(page, "text/html", local + "tidy/", local)[0].url == "file:///etc/passwd"


def test_forged_name_version_and_source_in_the_lock_are_one_line_and_never_reach_the_terminal(consumer, tmp_path):
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
    doit(consumer, "pull", f"--source={sdist}")
    lock = consumer / "micropkg.lock"
    good = lock.read_text()
    for field, value in [("version", "1.0\\u001b]52;c;QUFB\\u0007"), ("version", "not a version"),
                         ("name", "tidy\\u001b[2K"), ("source", "x\\u001b[1A")]:
        lock.write_text(re.sub(rf'(?m)^{field} = "[^"]*"', lambda _, f=field, v=value: f'{f} = "{v}"', good, count=1))
        for command in ("status", "graph", "outdated"):
            proc = doit(consumer, command, check=False)
            out = proc.stdout + proc.stderr
            assert proc.returncode != 0 and "\x1b" not in out and "\x07" not in out and "Traceback" not in out, out
            assert f"micropkg.lock: {field} " in out or f"{field} of " in out, out
    lock.write_text(good)
    assert doit(consumer, "status").returncode == 0
