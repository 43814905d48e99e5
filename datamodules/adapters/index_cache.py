"""Parse a large annotation file once: a pickled :class:`VideoIndex` per input and options.

``<cache_dir>/<json stem>-<key>.pkl`` where ``key`` hashes
- every input file's resolved path, size and mtime (touching or replacing a file re-parses),
- the adapter options (image root, splits, category mapping files, tolerances, ...),
- the source text of the adapter modules and the schema (changing the code re-parses).

Image files are not part of the key: a cache hit does not re-check that they exist (a
missing image still fails, with its path, when the frame is decoded). Files are written
atomically, so concurrent ranks may race to build the same entry; an unreadable entry is
rebuilt. Delete the folder to drop every entry.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Callable

from datamodules.schema import VideoIndex

log = logging.getLogger(__name__)


def _parser_code(package: Path) -> list[Path]:
    """The source files that shape a parsed index: the schema and every adapter module."""
    return [package / "schema.py", *sorted((package / "adapters").glob("*.py"))]


def cached_index(
    cache_dir: str | os.PathLike | None, inputs: list[str | os.PathLike], options: dict,
    build: Callable[[], VideoIndex],
) -> VideoIndex:
    """``build()``, or its cached result for the same ``inputs`` (files) and ``options``
    (JSON-serialisable values). ``cache_dir=None`` always builds."""
    if cache_dir is None:
        return build()
    path = Path(cache_dir) / f"{Path(inputs[0]).stem}-{_key(inputs, options)}.pkl"
    if path.exists():
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as err:
            log.warning("%s: unreadable index cache (%s); parsing again", path, err)
    index = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return index


def _key(inputs: list[str | os.PathLike], options: dict) -> str:
    files = []
    for p in inputs:
        p = Path(p).resolve()
        st = p.stat() if p.exists() else None  # a missing input fails in build(), not here
        files.append([str(p), st and st.st_size, st and st.st_mtime_ns])
    package = Path(__file__).resolve().parents[1]
    code = hashlib.sha256(b"".join(path.read_bytes() for path in _parser_code(package))).hexdigest()
    blob = json.dumps({"files": files, "options": options, "code": code}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
