from bravo.pipelines.cleaning.nodes import clean_names


def report(names, params):
    """One line per clean name."""
    return "\n".join(clean_names(names, params))
