"""Copying a download to disk with limits: a size cap, one overall deadline, a digest check."""
from __future__ import annotations

import errno
import hashlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import SourceError
from ..rules import DEFAULT_MAX_SIZE, DEFAULT_TIMEOUT, format_size

CHUNK = 1 << 16
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
NO_ROOM_HINT = "; free space there, or set TMPDIR to a folder with more room"


@dataclass(frozen=True)
class Fetched:
    path: Path
    sha256: str
    url: str = ""  # where a requirement was resolved to (an index or bucket file), for the lock


class Deadline:
    """The limits of one fetch: one overall time limit for everything it reads (a server that
    drips a byte every few seconds never resets it), and the most bytes it may bring."""

    def __init__(self, seconds: float = DEFAULT_TIMEOUT, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.seconds = seconds
        self.max_size = max_size
        self.end = time.monotonic() + seconds
        self._timers: list[threading.Timer] = []

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock`` when the deadline passes: a read blocked in the middle of headers that
        arrive a byte at a time wakes up (with an error the caller reports as the timeout)."""
        def cut() -> None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        timer = threading.Timer(max(0.0, self.left()), cut)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def expired(self) -> bool:
        return self.left() <= 0

    def left(self) -> float:
        return self.end - time.monotonic()

    def socket_timeout(self) -> float:
        return max(0.1, min(60.0, self.left()))

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise SourceError(f"{what}: no complete answer within {self.seconds:g} s; giving up")

    def read_all(self, src: Any, limit: int, what: str) -> bytes:
        chunks, size = [], 0
        for chunk in self.chunks(src, what):
            size += len(chunk)
            if size > limit:
                raise SourceError(f"{what}: answer larger than {format_size(limit)}; refusing it")
            chunks.append(chunk)
        return b"".join(chunks)

    def chunks(self, src: Any, what: str) -> Iterator[bytes]:
        read = getattr(src, "read1", None) or src.read
        while True:
            self.check(what)
            try:
                chunk = read(CHUNK)
            except TimeoutError:
                self.check(what)
                raise SourceError(f"{what}: the server stopped answering") from None
            if not chunk:
                self.check(what)  # a socket cut at the deadline ends like a short answer
                missing = getattr(src, "length", None) if isinstance(src, http.client.HTTPResponse) else None
                if missing:
                    raise SourceError(f"{what}: the connection closed {missing} bytes before the end of the answer")
                return
            yield chunk


def copy_stream(src: IO[bytes] | Any, dest: Path, what: str, deadline: Deadline, expected: str | None = None) -> Fetched:
    digest, size, limit = hashlib.sha256(), 0, deadline.max_size
    try:
        with dest.open("wb") as out:
            for chunk in deadline.chunks(src, what):
                size += len(chunk)
                if size > limit:
                    raise SourceError(f"{what} is larger than {format_size(limit)}, the max-size limit; refusing it "
                                      "(raise [tool.micropkg] max-size to accept it)")
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        if isinstance(exc, TimeoutError):
            raise SourceError(f"{what}: the server stopped answering") from None
        raise SourceError(f"{what}: cannot copy it to the temporary folder {dest.parent} ({exc.strerror or exc})"
                          f"{NO_ROOM_HINT if exc.errno in NO_ROOM else ''}") from None
    sha = digest.hexdigest()
    if expected and sha != expected:
        raise SourceError(f"{what}: sha256 {sha} does not match the index's {expected}")
    return Fetched(dest, sha)


def http_deadline(storage_options: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    """fsspec's HTTP filesystem reads through aiohttp, whose one read can wait for a dripping
    server for ever: give its session the time left as a total timeout (unless the fs-args set
    one), and a fresh filesystem instance, so the deadline bounds the whole download."""
    import aiohttp

    client_kwargs = dict(storage_options.get("client_kwargs") or {})
    client_kwargs.setdefault("timeout", aiohttp.ClientTimeout(total=max(0.1, deadline.left())))
    return {**storage_options, "client_kwargs": client_kwargs, "skip_instance_cache": True}
