"""Attacks on the life-cycle features found by an adversarial review: a folder where a pulled
file should be, requirement sources that resolve to something else, a cache that is not ours,
a web folder that drips, a publish destination holding a FIFO, values echoed back, secrets in
fs-args errors. Each is one line, nothing outside the project touched, nothing changed."""
import hashlib
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import add_manifest, doit, make_tar, sdist_entries, snapshot
from servers import serving


def _tidy(folder, version="1.0", name="tidy", package=None):
    folder.mkdir(exist_ok=True)
    entries = sdist_entries(package or name, version, files={"nodes.py": f"V = '{version}'\n"})
    if package:  # an archive named after `name` that holds another package
        entries = [(n.replace(f"{package}-{version}/", f"{name}-{version}/", 1), d) for n, d in entries]
    return make_tar(folder / f"{name}-{version}.tar.gz", entries)


@pytest.mark.parametrize("force", [False, True])
def test_a_folder_where_a_pulled_file_goes_is_never_removed(consumer, tmp_path, force):
    v1, v2 = _tidy(tmp_path / "shelf"), _tidy(tmp_path / "shelf", "2.0")
    doit(consumer, "pull", f"--source={v1}")
    nodes = consumer / "src/consumer/tidy/nodes.py"
    nodes.unlink()
    nodes.mkdir()
    (nodes / "mine.txt").write_text("precious\n")
    before = snapshot(consumer)
    for source in (v1, v2):  # a re-pull and an upgrade
        proc = doit(consumer, "pull", f"--source={source}", *(["--force"] if force else []), check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
        assert "src/consumer/tidy/nodes.py is not a regular file" in proc.stdout
        assert snapshot(consumer) == before


def test_a_requirement_source_must_bring_what_it_names(consumer, tmp_path):
    shelf = tmp_path / "shelf"
    _tidy(shelf, "1.0", name="tidy", package="evil")  # tidy-1.0.tar.gz holding package evil
    add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy>=1,<2" = {{index = "{shelf}"}}')
    before = snapshot(consumer)
    proc = doit(consumer, "pull", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "the archive it resolved to is evil 1.0, not what the requirement asks for" in proc.stdout
    assert snapshot(consumer) == before


def test_a_forged_lock_url_cannot_bring_another_version(consumer, tmp_path):
    shelf = tmp_path / "shelf"
    _tidy(shelf, "1.0")
    v2 = _tidy(tmp_path / "elsewhere", "2.0")
    add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy>=1,<2" = {{index = "{shelf}"}}')
    doit(consumer, "pull")
    lock = consumer / "micropkg.lock"
    text = lock.read_text()
    sha1 = hashlib.sha256((shelf / "tidy-1.0.tar.gz").read_bytes()).hexdigest()
    (shelf / "tidy-1.0.tar.gz").write_bytes(v2.read_bytes())  # the recorded URL now serves 2.0
    text = text.replace(sha1, hashlib.sha256(v2.read_bytes()).hexdigest())  # and the lock is forged to match
    lock.write_text(text)
    doit(consumer, "forget")
    before = snapshot(consumer)
    proc = doit(consumer, "pull", "--force", check=False)
    assert proc.returncode == 1 and "not what the requirement asks for" in proc.stdout
    assert snapshot(consumer) == before


def test_a_cache_that_is_a_link_is_neither_read_nor_written_nor_pruned(consumer, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / ("ab" * 32 + ".tar.gz")
    victim.write_text("precious\n")
    (consumer / ".micropkg").mkdir(exist_ok=True)
    os.symlink(outside, consumer / ".micropkg" / "cache")
    doit(consumer, "pull", f"--source={_tidy(tmp_path / 'shelf')}")
    assert victim.read_text() == "precious\n" and sorted(p.name for p in outside.iterdir()) == [victim.name]


def test_a_cached_archive_that_is_not_a_regular_file_is_never_read(consumer, tmp_path):
    sdist = _tidy(tmp_path / "shelf")
    doit(consumer, "pull", f"--source={sdist}")
    cached = consumer / ".micropkg" / "cache" / f"{hashlib.sha256(sdist.read_bytes()).hexdigest()}.tar.gz"
    cached.unlink()
    os.symlink("/dev/zero", cached)
    (consumer / "src/consumer/tidy/nodes.py").write_text("V = 'mine'\n")
    start = time.monotonic()
    proc = doit(consumer, "diff", timeout=60)  # the base comes from the source again, verified
    assert time.monotonic() - start < 30
    assert "-V = '1.0'" in proc.stdout and "+V = 'mine'" in proc.stdout


class _Drip(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        for _ in range(40):  # bounded: 20 s at most
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.5)


def test_listing_a_web_folder_is_bounded_by_the_timeout(consumer, tmp_path):
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Drip)) as base:
        sdist = _tidy(tmp_path / "shelf")
        doit(consumer, "pull", f"--source={sdist}")
        lock = consumer / "micropkg.lock"
        url = f"{base}/shared/tidy-1.0.tar.gz"
        lock.write_text(lock.read_text().replace(f'source = "{sdist}"', f'source = "{url}"'))
        text = (consumer / "pyproject.toml").read_text().replace("compile = false", "compile = false\ntimeout = 2")
        (consumer / "pyproject.toml").write_text(text)
        start = time.monotonic()
        proc = doit(consumer, "-r", "zero", "outdated", "--json", check=False)
        assert time.monotonic() - start < 12
        assert "no complete answer within 2 s" in proc.stderr and "Traceback" not in proc.stderr


def test_publishing_over_a_fifo_is_one_line(acme, tmp_path):
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    shared = tmp_path / "shared"
    shared.mkdir()
    os.mkfifo(shared / "cleaning-0.3.1.tar.gz")
    proc = doit(acme, "publish", f"--to={shared}", check=False, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "is not a regular file" in proc.stdout


def test_values_are_never_echoed_in_full_and_fs_args_keys_never_at_all(consumer, tmp_path):
    proc = doit(consumer, "diff", "--module=" + "x" * 100_000, check=False)
    assert proc.returncode == 1 and len(proc.stdout) < 2_000
    secrets = tmp_path / "shadow.yml"
    secrets.write_text("root:$6$SECRETHASH: 20228\n")
    proc = doit(consumer, "pull", "--source=memory://bucket/tidy-1.0.tar.gz", f"--fs-args={secrets}", check=False)
    assert proc.returncode == 1 and "SECRETHASH" not in proc.stdout + proc.stderr
    assert "has keys that are not option names" in proc.stdout
