"""Adapter for the Waymo Open Dataset v2 (parquet): camera images and 2D camera boxes.

Layout (one file per segment and component, as distributed)::

    <root>/<split>/camera_image/<segment_context_name>.parquet        images (JPEG bytes) + keys
    <root>/<split>/camera_box/<segment_context_name>.parquet          2D boxes (not in testing)
    <root>/<split>/camera_calibration/<segment_context_name>.parquet  optional: image sizes

``split`` is ``training``, ``validation`` or ``testing``. Only these v2 columns are read:

- camera_image: ``key.segment_context_name``, ``key.frame_timestamp_micros``,
  ``key.camera_name`` (never the image column: the index holds references, see below);
- camera_box: ``key.frame_timestamp_micros``, ``key.camera_name``, ``key.camera_object_id``,
  ``[CameraBoxComponent].box.center.{x,y}``, ``.box.size.{x,y}`` (pixels), ``.type``;
- camera_calibration: ``key.camera_name``, ``[CameraCalibrationComponent].{width,height}``.

Rules
- One :class:`Video` per (segment, camera), named ``<segment>_<CAMERA>``; its frames are the
  camera's images in timestamp order (``frame_index`` 0, 1, ...; 10 Hz). A frame references
  its image as ``image_path`` = the camera_image file, ``image_key`` = the row in it, decoded
  on demand by :func:`datamodules.image_io.open_frame_image`.
- Cameras: 1 FRONT, 2 FRONT_LEFT, 3 FRONT_RIGHT, 4 SIDE_LEFT, 5 SIDE_RIGHT; ``cameras``
  selects some (the others are not indexed at all). Any other camera value is an error.
- Image size: from camera_calibration when the segment's file exists, else the v2 sensor
  sizes, 1920x1280 (front cameras) and 1920x886 (side cameras). ``load_frame`` checks the
  decoded size against it.
- Box types: 1 vehicle, 2 pedestrian, 3 sign, 4 cyclist (``BoxType``); ``types`` selects the
  categories, labelled in ascending type order (``Category.id`` = the type). Boxes of a known
  type not selected are counted in ``skipped["type_not_selected"]``; ``TYPE_UNKNOWN`` (0)
  boxes carry no class and are counted in ``skipped["unknown_type"]``; other values are an
  error.
- Track ids: every (segment, camera, ``camera_object_id``) becomes one dataset-unique integer,
  assigned in segment, camera, object-id order. Camera labels are per camera, so one
  physical object seen by two cameras has two track ids (one per video).
- Boxes follow :mod:`datamodules.adapters.box_checks` (error / clip-and-count).
- Errors (:class:`AnnotationError`, naming file and row): missing or unreadable (truncated)
  parquet file, missing column, null key, a segment name that differs from the file name,
  two images with one (timestamp, camera), a box without an image.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from datamodules.adapters.box_checks import clip_boxes_to_image
from datamodules.adapters.index_cache import cached_index
from datamodules.schema import MAX_SKIP_EXAMPLES, AnnotationError, Category, Frame, SkipLog, Video, VideoIndex

__all__ = ["BOX_TYPES", "CAMERA_NAMES", "load_waymo"]

KEY_SEGMENT = "key.segment_context_name"
KEY_TIMESTAMP = "key.frame_timestamp_micros"
KEY_CAMERA = "key.camera_name"
KEY_OBJECT = "key.camera_object_id"
BOX_COLUMNS = [f"[CameraBoxComponent].box.{part}" for part in ("center.x", "center.y", "size.x", "size.y")]
BOX_TYPE = "[CameraBoxComponent].type"
CALIBRATION_SIZE = ["[CameraCalibrationComponent].width", "[CameraCalibrationComponent].height"]

CAMERA_NAMES = {1: "FRONT", 2: "FRONT_LEFT", 3: "FRONT_RIGHT", 4: "SIDE_LEFT", 5: "SIDE_RIGHT"}
SENSOR_IMAGE_SIZES = {1: (1920, 1280), 2: (1920, 1280), 3: (1920, 1280), 4: (1920, 886), 5: (1920, 886)}
BOX_TYPES = {1: "vehicle", 2: "pedestrian", 3: "sign", 4: "cyclist"}
TYPE_UNKNOWN = 0


def load_waymo(
    root: str | os.PathLike, split: str = "training", *, types: Sequence[int] = (1, 2, 4),
    cameras: Sequence[int] = (1, 2, 3, 4, 5), segments: Sequence[str] | None = None,
    with_boxes: bool = True, cache_dir: str | os.PathLike | None = None, box_tolerance: float = 1.0,
) -> VideoIndex:
    """Index one split of Waymo Open Dataset v2 (rules in the module docstring).

    Args:
        root: the folder holding ``training/``, ``validation/``, ``testing/``.
        split: which of them.
        types: box types to keep as categories (default: the camera-labelled classes
            vehicle, pedestrian, cyclist; RetinaTrack uses ``[1]``).
        cameras: camera names to index.
        segments: segment context names to index (default: every camera_image file).
        with_boxes: read camera_box; ``False`` for the unlabelled testing split.
        cache_dir: where the parsed index is cached (:mod:`~datamodules.adapters.index_cache`,
            keyed by every parquet file read); ``None`` parses every time.
        box_tolerance: pixels a box may pass the image border before its clip is counted.
    """
    types, cameras = sorted(types), sorted(cameras)
    unknown = sorted(set(types) - set(BOX_TYPES)) + sorted(set(cameras) - set(CAMERA_NAMES))
    if unknown or not types or not cameras:
        raise ValueError(f"types must be a non-empty subset of {sorted(BOX_TYPES)} and cameras of "
                         f"{sorted(CAMERA_NAMES)}; got types={types}, cameras={cameras}")
    split_dir = Path(root) / split
    names = list(segments) if segments is not None else _segment_names(split_dir / "camera_image")
    if not names:
        raise ValueError("segments is empty")
    components = ["camera_image", "camera_calibration", *(["camera_box"] if with_boxes else [])]

    def parse() -> VideoIndex:
        reader = _SegmentReader(split_dir, types, cameras, with_boxes, box_tolerance)
        for name in tqdm(names, desc=f"indexing Waymo {split}", unit="segment", disable=None):
            reader.read(name)
        return VideoIndex(videos=reader.videos, categories=[Category(t, BOX_TYPES[t]) for t in types],
                          source=str(split_dir), split=split,
                          skipped=reader.skipped.counts, skip_examples=reader.skipped.examples)

    options = {"adapter": "waymo", "split_dir": str(split_dir), "types": types, "cameras": cameras,
               "segments": names, "with_boxes": with_boxes, "box_tolerance": box_tolerance}
    inputs = [split_dir / c / f"{name}.parquet" for name in names for c in components]
    return cached_index(cache_dir, inputs, options, parse)


def _segment_names(image_dir: Path) -> list[str]:
    if not image_dir.is_dir():
        raise AnnotationError(f"{image_dir}: camera_image folder missing")
    names = sorted(p.stem for p in image_dir.glob("*.parquet"))
    if not names:
        raise AnnotationError(f"{image_dir}: no segment (*.parquet) files")
    return names


def _read_columns(path: Path, columns: list[str]) -> dict[str, np.ndarray]:
    """The named columns of a parquet file as numpy arrays (strings as object arrays)."""
    try:
        missing = [c for c in columns if c not in pq.read_schema(path).names]
        if missing:
            raise AnnotationError(f"{path}: missing column(s) {missing}")
        table = pq.read_table(path, columns=columns)
    except FileNotFoundError as err:
        raise AnnotationError(f"{path}: file missing") from err
    except (pa.ArrowException, OSError) as err:
        raise AnnotationError(f"{path}: cannot read parquet file (truncated or corrupt?): {err}") from err
    arrays = {}
    for name in columns:
        column = table.column(name)
        if column.null_count:
            row = int(np.argmax(pc.is_null(column).to_numpy(zero_copy_only=False)))
            raise AnnotationError(f"{path}: row {row}: {name!r} is null")
        arrays[name] = column.to_numpy()
    return arrays


class _SegmentReader:
    """Turns segments into videos, numbering images and tracks across the whole split."""

    def __init__(self, split_dir: Path, types: list[int], cameras: list[int], with_boxes: bool,
                 box_tolerance: float) -> None:
        self.split_dir, self.types, self.cameras = split_dir, types, cameras
        self.with_boxes, self.box_tolerance = with_boxes, box_tolerance
        self.videos: list[Video] = []
        self.skipped = SkipLog()
        self.next_image_id = self.next_track_id = 0

    def read(self, segment: str) -> None:
        image_file = self.split_dir / "camera_image" / f"{segment}.parquet"
        keys = _read_columns(image_file, [KEY_SEGMENT, KEY_TIMESTAMP, KEY_CAMERA])
        names = set(keys[KEY_SEGMENT].tolist())
        if names != {segment}:
            raise AnnotationError(f"{image_file}: {KEY_SEGMENT} is {sorted(names)}, expected {segment!r}")
        timestamps, cameras = keys[KEY_TIMESTAMP].astype(np.int64), keys[KEY_CAMERA].astype(np.int64)
        row_of: dict[tuple[int, int], int] = {}
        for row, key in enumerate(zip(timestamps.tolist(), cameras.tolist())):
            if key[1] not in CAMERA_NAMES:
                raise AnnotationError(f"{image_file}: row {row}: unknown {KEY_CAMERA} {key[1]}")
            if row_of.setdefault(key, row) != row:
                raise AnnotationError(f"{image_file}: rows {row_of[key]} and {row} are both the image of "
                                      f"frame_timestamp_micros={key[0]}, camera_name={key[1]}")
        boxes = self._read_boxes(segment, image_file, row_of) if self.with_boxes else None
        present = [c for c in self.cameras if (cameras == c).any()]
        sizes = self._image_sizes(segment, present)
        for camera in present:
            rows = np.flatnonzero(cameras == camera)
            rows = rows[np.argsort(timestamps[rows], kind="stable")]
            self.videos.append(self._video(segment, camera, image_file, rows, sizes[camera], boxes))

    def _image_sizes(self, segment: str, cameras: list[int]) -> dict[int, tuple[int, int]]:
        """``camera -> (width, height)`` for ``cameras``, from calibration or the sensor sizes."""
        path = self.split_dir / "camera_calibration" / f"{segment}.parquet"
        if not path.is_file():
            return SENSOR_IMAGE_SIZES
        table = _read_columns(path, [KEY_CAMERA, *CALIBRATION_SIZE])
        sizes = {int(c): (int(w), int(h)) for c, w, h in zip(*(table[k] for k in (KEY_CAMERA, *CALIBRATION_SIZE)))}
        missing = [CAMERA_NAMES[c] for c in cameras if c not in sizes]
        if missing:
            raise AnnotationError(f"{path}: no calibration for camera(s) {missing}")
        return sizes

    def _read_boxes(self, segment: str, image_file: Path, row_of: dict) -> _Boxes:
        path = self.split_dir / "camera_box" / f"{segment}.parquet"
        table = _read_columns(path, [KEY_TIMESTAMP, KEY_CAMERA, KEY_OBJECT, *BOX_COLUMNS, BOX_TYPE])
        timestamps, cameras = table[KEY_TIMESTAMP].astype(np.int64), table[KEY_CAMERA].astype(np.int64)
        objects, types = table[KEY_OBJECT], table[BOX_TYPE].astype(np.int64)

        def where(i: int) -> str:
            return (f"{path}: row {i} (frame_timestamp_micros={timestamps[i]}, camera_name={cameras[i]}, "
                    f"camera_object_id={objects[i]!r})")

        image_rows = np.array([row_of.get(k, -1) for k in zip(timestamps.tolist(), cameras.tolist())], np.int64)
        if (image_rows < 0).any():
            raise AnnotationError(f"{where(int(np.argmax(image_rows < 0)))}: no such image in {image_file}")
        bad_type = ~np.isin(types, [TYPE_UNKNOWN, *BOX_TYPES])
        if bad_type.any():
            i = int(np.argmax(bad_type))
            raise AnnotationError(f"{where(i)}: unknown {BOX_TYPE} {types[i]}")
        self._count(types == TYPE_UNKNOWN, "unknown_type", where)
        self._count(np.isin(types, list(BOX_TYPES)) & ~np.isin(types, self.types), "type_not_selected", where)
        cx, cy, w, h = (table[c].astype(np.float64) for c in BOX_COLUMNS)
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        return _Boxes(np.flatnonzero(np.isin(types, self.types)), image_rows, cameras, xyxy,
                      np.searchsorted(self.types, types), objects.astype(str), where)

    def _count(self, mask: np.ndarray, reason: str, where) -> None:
        rows = np.flatnonzero(mask)
        for i in rows[:MAX_SKIP_EXAMPLES]:
            self.skipped.add(reason, where(int(i)))
        self.skipped.counts[reason] += max(0, len(rows) - MAX_SKIP_EXAMPLES)

    def _video(self, segment: str, camera: int, image_file: Path, rows: np.ndarray, size: tuple[int, int],
               boxes: _Boxes | None) -> Video:
        width, height = size
        per_row: dict[int, tuple] = {}
        if boxes is not None:
            mine = boxes.kept[boxes.camera[boxes.kept] == camera]
            xyxy = clip_boxes_to_image(boxes.xyxy[mine], width, height, tolerance=self.box_tolerance,
                                       where=lambda i: boxes.where(int(mine[i])), skipped=self.skipped)
            objects, track_ids = np.unique(boxes.object[mine], return_inverse=True)
            track_ids = track_ids.reshape(-1) + self.next_track_id
            self.next_track_id += len(objects)
            labels, image_rows = boxes.label[mine], boxes.image_row[mine]
            order = np.argsort(image_rows, kind="stable")
            rows_with_boxes, starts = np.unique(image_rows[order], return_index=True)
            for row, at in zip(rows_with_boxes.tolist(), np.split(order, starts[1:])):
                per_row[row] = (xyxy[at], labels[at], track_ids[at])
        frames = []
        for position, row in enumerate(rows.tolist()):
            xyxy, labels, track_ids = per_row.get(row, (None, None, None))
            frames.append(Frame(image_path=image_file, width=width, height=height, frame_index=position,
                                image_id=self.next_image_id, boxes=xyxy, labels=labels, track_ids=track_ids,
                                image_key=row))
            self.next_image_id += 1
        return Video(video_id=len(self.videos), name=f"{segment}_{CAMERA_NAMES[camera]}", frames=frames)


@dataclass(frozen=True)
class _Boxes:
    """All boxes of one camera_box file, by file row: ``image_row`` (row of the image in the
    camera_image file), ``camera``, ``xyxy (N, 4)`` (unchecked pixels), ``label`` (valid on
    ``kept`` rows only), ``object`` (camera_object_id); ``kept``: rows of selected types;
    ``where(row)`` names file and row for messages."""

    kept: np.ndarray
    image_row: np.ndarray
    camera: np.ndarray
    xyxy: np.ndarray
    label: np.ndarray
    object: np.ndarray
    where: Callable[[int], str]
