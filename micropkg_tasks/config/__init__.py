"""Reading the project: pyproject.toml ([tool.kedro] facts, the [tool.micropkg] manifest, its legacy table and migration), fs-args files."""
