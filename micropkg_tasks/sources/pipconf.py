"""Which index pip would use: ``PIP_INDEX_URL``, else pip's configuration files, else PyPI."""
from __future__ import annotations

import configparser
import os

DEFAULT_INDEX = "https://pypi.org/simple"


def index_url() -> str:
    """The index pip would use: PIP_INDEX_URL, else pip's config files, else PyPI."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    found = None
    for path in pip_config_files():
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue
        for section in ("global", "download"):
            if parser.has_option(section, "index-url"):
                found = parser.get(section, "index-url")
    return found or DEFAULT_INDEX


def pip_config_files() -> list[str]:
    """pip's files in its order (later wins); PIP_CONFIG_FILE=/dev/null (os.devnull) means none."""
    env_file = os.environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [os.path.join(d, "pip", "pip.conf") for d in xdg_dirs] + ["/etc/pip.conf"]
    home = os.path.expanduser("~")
    files += [os.path.join(home, ".pip", "pip.conf"),
              os.path.join(os.environ.get("XDG_CONFIG_HOME", os.path.join(home, ".config")), "pip", "pip.conf")]
    if os.environ.get("VIRTUAL_ENV"):
        files.append(os.path.join(os.environ["VIRTUAL_ENV"], "pip.conf"))
    if env_file:
        files.append(env_file)
    return [f for f in files if os.path.isfile(f)]
