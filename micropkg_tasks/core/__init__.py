"""The functional core: plain data in, plain data out.

Which files make a micro-package, the sdist format (layout), the members of an sdist, where
pulled files go and what applying them changes, requirement merging, import rewriting."""
