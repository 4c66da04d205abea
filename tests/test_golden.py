"""The restructure into layers kept the product: the bundled example packages to exactly the bytes
the flat version (commit 5c19ece) produced. Digests recorded by running `doit package` in
examples/acme-project at 5c19ece; a change here means the sdist format changed, so bump
core.sdist.FORMAT_VERSION and record new digests on purpose."""
import hashlib
import shutil

from conftest import HERE, doit

EXAMPLE = HERE.parent / "examples" / "acme-project"
DIGESTS_AT_5C19ECE = {
    "dist/cleaning-0.3.1.tar.gz": "6d43992877e135c32ea4732c7c41788c5d73741c62b636186bb169986dc17cf4",
    "dist/scoring_kit-0.1.tar.gz": "5ddd995ed649399ce9e4e575efd03fe33c67bef5edc4530e77e14d124b7e2f21",
}


def test_bundled_example_packages_to_the_same_bytes_as_before_the_restructure(tmp_path):
    project = tmp_path / "acme-project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".micropkg", "dist", "__pycache__"))
    doit(project, "package")
    got = {rel: hashlib.sha256((project / rel).read_bytes()).hexdigest() for rel in DIGESTS_AT_5C19ECE}
    assert got == DIGESTS_AT_5C19ECE
