"""``fs-args``: a YAML file of fsspec storage options (credentials, client_kwargs, headers).
The path may be relative to the project, absolute, or start with ``~``."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ManifestError


def fs_args_path(root: Path, fs_args: str) -> Path:
    return root / os.path.expanduser(fs_args)


def load_fs_args(root: Path, fs_args: str | None, where: str) -> dict[str, Any]:
    if not fs_args:
        return {}
    import yaml

    path = fs_args_path(root, fs_args)
    if path.exists() and not path.is_file():  # reading a FIFO would wait for a writer forever
        raise ManifestError(f"{where}: fs_args file {fs_args} is not a regular file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{where}: fs_args file {fs_args} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{where}: fs_args file {fs_args} cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{where}: fs_args file {fs_args} is not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: fs_args file {fs_args} must hold a mapping of storage options")
    if not all(isinstance(key, str) and key.isidentifier() for key in data):
        # storage options are keyword arguments; a key that is not one is never echoed back (a
        # credentials file given by mistake would print its secrets in the error)
        raise ManifestError(f"{where}: fs_args file {fs_args} has keys that are not option names "
                            "(such as key, secret, client_kwargs); is it the right file?")
    return data
