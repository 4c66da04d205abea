from bravo.pipelines.reporting.nodes import report


def test_report():
    assert report([" Ab ", "c"], {"min_length": 2}) == "ab"
