"""The conflict-marker scan (``doit status``, ``doit package``, upgrades) reads user and pulled
content: it must agree with git's rule and take linear time whatever the file holds."""
import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from micropkg_tasks.lifecycle.merge import has_markers

# The rule as a regular expression: right on small inputs, cubic on hostile ones (the old scan).
RULE = re.compile(rb"^<<<<<<< .*$.*^>>>>>>> ", re.MULTILINE | re.DOTALL)

LINES = st.sampled_from([b"<<<<<<< local\n", b">>>>>>> tidy 2.0\n", b"=======\n", b"<<<<<<<\n", b">>>>>>>x\n",
                         b"x <<<<<<< y\n", b"code\n", b"\r\n", b"\n", b"<<<<<<< ", b">>>>>>> ", b"a"])


@settings(max_examples=500)
@given(st.lists(LINES, max_size=12))
def test_the_scan_is_the_rule(parts):
    data = b"".join(parts)
    assert has_markers(data) == (RULE.search(data) is not None)


def test_marker_like_lines_take_linear_time():
    # 15 KB of opening lines and no closing one took 47 s with the regular expression; 1.5 MB here.
    hostile = b"<<<<<<< a\n" * 150_000
    start = time.perf_counter()
    assert not has_markers(hostile)
    assert has_markers(hostile + b">>>>>>> b\n")
    assert time.perf_counter() - start < 5  # linear: milliseconds; the cubic scan would take days
