"""The manifest's home: [tool.micropkg] (Kedro 1.x refuses unknown keys under [tool.kedro]), the
legacy [tool.kedro.micropkg] still read for Kedro 0.19 projects, and `doit migrate` between them."""
import sys

import pytest
from conftest import doit, snapshot

from micropkg_tasks.config.migrate import migrate_text
from micropkg_tasks.config.project import load_project
from micropkg_tasks.errors import ManifestError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

LEGACY = """\
# The acme project
[project]
name = "acme"  # kept

[tool.kedro]
package_name = "acme"   # the package
project_name = "acme"
kedro_init_version = "{version}"
source_dir = "src"

# What we share with other teams
[tool.kedro.micropkg]
compile = false  # no pip-compile here

[tool.setuptools.dynamic.version]
attr = "acme.__version__"

[tool.kedro.micropkg.package]  # one entry per pipeline
"pipelines.cleaning" = {{}}
# scoring goes out under another name
"pipelines.scoring" = {{alias = "scoring_kit"}}   # aligned comment

[tool.kedro.micropkg.pull]
"dist/cleaning-0.3.1.tar.gz" = {{alias = "tidy", destination = "pipelines"}}

# trailing comment
[tool.ruff]
line-length = 100
"""


def renamed_headers(text: str) -> str:
    return text.replace("[tool.kedro.micropkg", "[tool.micropkg")


def test_migrate_renames_only_the_headers_keeping_every_comment_and_byte():
    before = LEGACY.format(version="1.7.0")
    after = migrate_text(before)
    assert after == renamed_headers(before)  # everything else byte for byte
    old, new = tomllib.loads(before)["tool"], tomllib.loads(after)["tool"]
    assert new["micropkg"] == old["kedro"]["micropkg"] and "micropkg" not in new["kedro"]
    assert migrate_text(after) == after  # twice changes nothing


def test_migrate_refuses_a_form_it_cannot_move_faithfully():
    with pytest.raises(ManifestError, match="cannot be moved automatically"):
        migrate_text('[tool.kedro]\npackage_name = "acme"\nmicropkg = {compile = false}\n')


@pytest.fixture
def kedro1_legacy(acme):
    (acme / "pyproject.toml").write_text(LEGACY.format(version="1.7.0"))
    return acme


def test_legacy_table_in_a_kedro1_project_stops_every_command_but_migrate(kedro1_legacy):
    before = snapshot(kedro1_legacy)
    for args in (["package"], ["list"], ["pull"]):
        proc = doit(kedro1_legacy, *args, check=False)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert lines == [lines[0]] and lines[0].startswith("ERROR: [tool.kedro.micropkg] is in a Kedro 1.7.0 project")
        assert "doit migrate" in lines[0] and "Traceback" not in proc.stderr
    assert snapshot(kedro1_legacy) == before

    dry = doit(kedro1_legacy, "migrate", "--dry-run").stdout
    assert "-[tool.kedro.micropkg.package]  # one entry per pipeline" in dry
    assert "+[tool.micropkg.package]  # one entry per pipeline" in dry
    assert snapshot(kedro1_legacy) == before  # a dry run changes nothing

    doit(kedro1_legacy, "migrate")
    assert (kedro1_legacy / "pyproject.toml").read_text() == renamed_headers(LEGACY.format(version="1.7.0"))
    out = doit(kedro1_legacy, "package").stdout
    assert "packaged 'acme.pipelines.scoring' as 'scoring_kit'" in out
    assert "nothing to migrate" in doit(kedro1_legacy, "migrate").stdout


def test_legacy_table_still_works_in_a_kedro_019_project(acme):
    (acme / "pyproject.toml").write_text(LEGACY.format(version="0.19.15"))
    project = load_project(acme)
    assert project.table == "tool.kedro.micropkg" and "package" in project.micropkg
    assert "packaged 'acme.pipelines.cleaning'" in doit(acme, "package").stdout


def test_both_tables_is_one_error_naming_both(acme):
    text = LEGACY.format(version="0.19.15") + '\n[tool.micropkg.package]\n"pipelines.cleaning" = {}\n'
    (acme / "pyproject.toml").write_text(text)
    proc = doit(acme, "package", check=False)
    assert proc.returncode == 3
    assert "both [tool.micropkg] and [tool.kedro.micropkg]" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(ManifestError, match="both"):
        migrate_text(text)


# -- the file is rewritten as an editor would: line endings, mode and links kept ------------------

def test_migrate_keeps_crlf_line_endings(kedro1_legacy):
    path = kedro1_legacy / "pyproject.toml"
    path.write_bytes(LEGACY.format(version="1.7.0").replace("\n", "\r\n").encode())
    doit(kedro1_legacy, "migrate")
    assert path.read_bytes() == renamed_headers(LEGACY.format(version="1.7.0")).replace("\n", "\r\n").encode()


def test_migrate_keeps_a_private_mode(kedro1_legacy):
    path = kedro1_legacy / "pyproject.toml"
    path.chmod(0o600)
    doit(kedro1_legacy, "migrate")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text() == renamed_headers(LEGACY.format(version="1.7.0"))


def test_migrate_writes_through_a_symlinked_pyproject(kedro1_legacy, tmp_path):
    real = tmp_path / "shared-pyproject.toml"
    (kedro1_legacy / "pyproject.toml").rename(real)
    (kedro1_legacy / "pyproject.toml").symlink_to(real)
    doit(kedro1_legacy, "migrate")
    assert (kedro1_legacy / "pyproject.toml").is_symlink()
    assert real.read_text() == renamed_headers(LEGACY.format(version="1.7.0"))


def test_migrate_refuses_a_read_only_pyproject(kedro1_legacy):
    path = kedro1_legacy / "pyproject.toml"
    path.chmod(0o444)
    before = snapshot(kedro1_legacy)
    proc = doit(kedro1_legacy, "migrate", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pyproject.toml is read-only; make it writable (chmod u+w pyproject.toml) and run again" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(kedro1_legacy) == before and path.stat().st_mode & 0o777 == 0o444
