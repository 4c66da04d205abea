"""The thin shell: one operation end to end (package, pull, unpull, compile), composing config, core, sources and store."""
