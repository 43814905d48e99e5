"""Open the image of a :class:`~datamodules.schema.Frame`: a plain image file, or one
encoded image stored in a row of a parquet table.

- ``frame.image_key is None``: ``frame.image_path`` is an image file (JPEG, PNG, ...).
- ``frame.image_key = r``: ``frame.image_path`` is a parquet file whose column
  :data:`PARQUET_IMAGE_COLUMN` (Waymo v2 ``camera_image``) holds encoded images; the frame's
  image is in row ``r`` (0-based, in file order).

Parquet is read by row group, the smallest unit pyarrow decodes. Each process (so each
DataLoader worker) keeps the image column of its :data:`ROW_GROUP_CACHE_SIZE` most recently
used row groups, so the frames of a clip, which share a row group, cost one read.
Memory: the cache holds encoded (JPEG) bytes, about ``ROW_GROUP_CACHE_SIZE`` x the image
column of one row group per worker. A Waymo v2 segment holds ~200 frames x 5 cameras of
JPEGs (~0.3 MB each at 1920x1280); written as one row group that is ~0.3 GB, so ~0.6 GB per
worker. Random clip sampling across segments reads one row group per clip; a sampler that
draws several clips per segment in a row, or JPEG files extracted once, is faster.
"""
from __future__ import annotations

import bisect
import io
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from datamodules.schema import Frame

__all__ = ["PARQUET_IMAGE_COLUMN", "ROW_GROUP_CACHE_SIZE", "open_frame_image", "read_parquet_image_bytes"]

PARQUET_IMAGE_COLUMN = "[CameraImageComponent].image"
ROW_GROUP_CACHE_SIZE = 2


def open_frame_image(frame: Frame) -> Image.Image:
    """The frame's image, decoded, as an RGB PIL image.

    Raises:
        FileNotFoundError: ``frame.image_path`` does not exist.
        OSError: the image cannot be decoded, or the parquet file cannot be read or has no
            row ``frame.image_key`` (the message names the file and the row).
    """
    if frame.image_key is None:
        source = frame.image_path
    else:
        source = io.BytesIO(read_parquet_image_bytes(str(frame.image_path), frame.image_key))
    with Image.open(source) as image:
        return image.convert("RGB")


def read_parquet_image_bytes(path: str, row: int) -> bytes:
    """The encoded image in row ``row`` of the parquet file ``path`` (see the module
    docstring for the caching)."""
    starts = _row_group_starts(path)
    if not 0 <= row < starts[-1]:
        raise OSError(f"{path}: no row {row} (the file has {starts[-1]} rows)")
    group = bisect.bisect_right(starts, row) - 1
    value = _row_group_images(path, group)[row - starts[group]].as_py()
    if value is None:
        raise OSError(f"{path}: row {row} has no image (null {PARQUET_IMAGE_COLUMN!r})")
    return value


@lru_cache(maxsize=64)
def _row_group_starts(path: str) -> list[int]:
    """First row of every row group, then the row count: ``(num_row_groups + 1,)``."""
    with _parquet_file(path) as table:
        if PARQUET_IMAGE_COLUMN not in table.schema_arrow.names:
            raise OSError(f"{path}: no column {PARQUET_IMAGE_COLUMN!r}")
        meta = table.metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()


@lru_cache(maxsize=ROW_GROUP_CACHE_SIZE)
def _row_group_images(path: str, group: int) -> pa.ChunkedArray:
    try:
        with _parquet_file(path) as table:
            return table.read_row_group(group, columns=[PARQUET_IMAGE_COLUMN]).column(0)
    except pa.ArrowException as err:
        raise OSError(f"{path}: cannot read {PARQUET_IMAGE_COLUMN!r} of row group {group}: {err}") from err


def _parquet_file(path: str) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError) as err:
        raise OSError(f"{path}: not a readable parquet file: {err}") from err
