"""What lives on disk: the lock file, all-or-nothing transactions, tarballs (deterministic
writing, checked reading), the state folder, careful file helpers."""
