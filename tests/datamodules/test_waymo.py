"""Waymo Open Dataset v2 adapter on tiny parquet files in the real layout and v2 columns,
and decoding a frame's JPEG from parquet."""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hydra.utils import instantiate
from PIL import Image

from conftest import compose_train
from datamodules.adapters.waymo import load_waymo
from datamodules.datasets import ClipDataset, collate_clips, load_frame
from datamodules.image_io import open_frame_image
from datamodules.schema import AnnotationError
from datamodules.transforms import FrameTransform

FRONT, SIDE_LEFT = 1, 4
SIZES = {FRONT: (32, 24), SIDE_LEFT: (32, 16)}  # tiny stand-ins for 1920x1280 / 1920x886
VEHICLE, PEDESTRIAN, SIGN, CYCLIST, UNKNOWN = 1, 2, 3, 4, 0


def color(timestamp: int, camera: int) -> tuple[int, int, int]:
    return (timestamp // 10 % 256, 40 * camera, 200)


def jpeg(size: tuple[int, int], rgb: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, rgb).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def write_segment(split_dir: Path, segment: str, images: list[tuple[int, int]], boxes: list[tuple],
                  calibration: bool = True) -> None:
    """camera_image rows ``(timestamp, camera)`` (in this order, 2 rows per row group),
    camera_box rows ``(timestamp, camera, object id, cx, cy, w, h, type)``, calibration."""
    for component in ("camera_image", "camera_box", "camera_calibration"):
        (split_dir / component).mkdir(parents=True, exist_ok=True)
    image_table = pa.table({
        "key.segment_context_name": pa.array([segment] * len(images), pa.string()),
        "key.frame_timestamp_micros": pa.array([t for t, _ in images], pa.int64()),
        "key.camera_name": pa.array([c for _, c in images], pa.int8()),
        "[CameraImageComponent].image": pa.array([jpeg(SIZES[c], color(t, c)) for t, c in images], pa.binary()),
        "[CameraImageComponent].pose_timestamp": pa.array([t / 1e6 for t, _ in images], pa.float64()),
    })
    pq.write_table(image_table, split_dir / "camera_image" / f"{segment}.parquet", row_group_size=2)
    columns = list(zip(*boxes)) if boxes else [[]] * 8
    box_table = pa.table({
        "key.segment_context_name": pa.array([segment] * len(boxes), pa.string()),
        "key.frame_timestamp_micros": pa.array(columns[0], pa.int64()),
        "key.camera_name": pa.array(columns[1], pa.int8()),
        "key.camera_object_id": pa.array(columns[2], pa.string()),
        "[CameraBoxComponent].box.center.x": pa.array(columns[3], pa.float64()),
        "[CameraBoxComponent].box.center.y": pa.array(columns[4], pa.float64()),
        "[CameraBoxComponent].box.size.x": pa.array(columns[5], pa.float64()),
        "[CameraBoxComponent].box.size.y": pa.array(columns[6], pa.float64()),
        "[CameraBoxComponent].type": pa.array(columns[7], pa.int8()),
        "[CameraBoxComponent].difficulty_level.detection": pa.array([1] * len(boxes), pa.int8()),
    })
    pq.write_table(box_table, split_dir / "camera_box" / f"{segment}.parquet")
    if calibration:
        cameras = sorted(SIZES)
        pq.write_table(pa.table({
            "key.segment_context_name": pa.array([segment] * len(cameras), pa.string()),
            "key.camera_name": pa.array(cameras, pa.int8()),
            "[CameraCalibrationComponent].width": pa.array([SIZES[c][0] for c in cameras], pa.int32()),
            "[CameraCalibrationComponent].height": pa.array([SIZES[c][1] for c in cameras], pa.int32()),
        }), split_dir / "camera_calibration" / f"{segment}.parquet")


SEGMENT_A, SEGMENT_B = "10017090168044687777_6380_000_6400_000", "1005081002024129653_5313_150_5333_150"
# rows out of timestamp order: the adapter sorts frames by time
IMAGES_A = [(1200, FRONT), (1000, FRONT), (1000, SIDE_LEFT), (1100, FRONT), (1100, SIDE_LEFT), (1200, SIDE_LEFT)]
BOXES_A = [
    (1000, FRONT, "car-a", 10, 8, 8, 6, VEHICLE),
    (1100, FRONT, "car-a", 12, 8, 8, 6, VEHICLE),
    (1100, FRONT, "ped-b", 20, 12, 4, 10, PEDESTRIAN),
    (1200, FRONT, "sign-c", 5, 5, 2, 2, SIGN),
    (1200, FRONT, "what-d", 5, 5, 2, 2, UNKNOWN),
    (1000, SIDE_LEFT, "car-a", 10, 8, 8, 6, CYCLIST),  # camera labels are per camera
    (1200, SIDE_LEFT, "car-e", 30, 8, 8, 6, VEHICLE),  # x2 = 34: 2 px past the 32 px border
]
IMAGES_B = [(500, FRONT), (600, FRONT)]
BOXES_B = [(500, FRONT, "car-a", 10, 8, 8, 6, VEHICLE)]


@pytest.fixture
def root(tmp_path) -> Path:
    write_segment(tmp_path / "training", SEGMENT_A, IMAGES_A, BOXES_A)
    write_segment(tmp_path / "training", SEGMENT_B, IMAGES_B, BOXES_B)
    return tmp_path


def by_name(index):
    return {v.name: v for v in index.videos}


def test_videos_frames_boxes_and_track_ids(root):
    index = load_waymo(root, "training")
    assert [(c.id, c.name) for c in index.categories] == [(1, "vehicle"), (2, "pedestrian"), (4, "cyclist")]
    videos = by_name(index)
    assert list(videos) == [f"{SEGMENT_A}_FRONT", f"{SEGMENT_A}_SIDE_LEFT", f"{SEGMENT_B}_FRONT"]
    front, side, other = videos.values()
    image_file = root / "training" / "camera_image" / f"{SEGMENT_A}.parquet"
    assert [f.image_key for f in front.frames] == [1, 3, 0]  # rows of 1000, 1100, 1200
    assert all(f.image_path == image_file for f in front.frames)
    assert [f.frame_index for f in front.frames] == [0, 1, 2]
    assert [(f.width, f.height) for f in front.frames + side.frames] == [SIZES[FRONT]] * 3 + [SIZES[SIDE_LEFT]] * 3
    assert sorted(f.image_id for _, f in index.frames()) == list(range(index.num_frames)) and index.num_frames == 8

    f0, f1, f2 = front.frames
    np.testing.assert_array_equal(f0.boxes, [[6, 5, 14, 11]])
    np.testing.assert_array_equal(f1.boxes, [[8, 5, 16, 11], [18, 7, 22, 17]])
    assert f0.labels.tolist() == [0] and f1.labels.tolist() == [0, 1]
    assert len(f2) == 0  # its sign and unknown-type boxes are skipped and counted
    assert f0.track_ids[0] == f1.track_ids[0] != f1.track_ids[1]
    side_car, side_e = side.frames[0].track_ids[0], side.frames[2].track_ids[0]
    np.testing.assert_array_equal(side.frames[2].boxes, [[26, 5, 32, 11]])  # clipped
    assert side.frames[0].labels.tolist() == [2]
    track_ids = [int(t) for _, f in index.frames() for t in f.track_ids]
    assert len(set(track_ids)) == 5  # A: FRONT car-a, ped-b; SIDE_LEFT car-a, car-e; B: car-a
    assert side_car != f0.track_ids[0] != other.frames[0].track_ids[0] and side_e != side_car

    box_file = root / "training" / "camera_box" / f"{SEGMENT_A}.parquet"
    assert index.skipped == {"type_not_selected": 1, "unknown_type": 1, "box_clipped": 1}
    assert index.skip_examples["unknown_type"] == [
        f"{box_file}: row 4 (frame_timestamp_micros=1200, camera_name=1, camera_object_id='what-d')"]
    assert index.skip_examples["box_clipped"][0].startswith(f"{box_file}: row 6 ")


def test_load_frame_decodes_the_jpeg_from_parquet(root):
    index = load_waymo(root, "training")
    for video in index.videos:
        for frame in video.frames:
            sample = load_frame(video, frame)
            image = np.asarray(sample["image"], np.float64)
            assert sample["orig_size"] == (frame.height, frame.width)
            timestamp, camera = (IMAGES_B if video.name.startswith(SEGMENT_B) else IMAGES_A)[frame.image_key]
            assert np.abs(image.mean(axis=(0, 1)) - color(timestamp, camera)).max() < 3
    assert open_frame_image(index.videos[0].frames[2]).size == SIZES[FRONT]  # a row of the 1st row group


def test_selected_types_and_cameras(root):
    index = load_waymo(root, "training", types=[VEHICLE], cameras=[SIDE_LEFT])
    assert [c.name for c in index.categories] == ["vehicle"]
    assert [v.name for v in index.videos] == [f"{SEGMENT_A}_SIDE_LEFT"]
    assert [len(f) for f in index.videos[0].frames] == [0, 0, 1]
    assert index.skipped["type_not_selected"] == 3  # pedestrian, sign, cyclist
    with pytest.raises(ValueError, match="types must be"):
        load_waymo(root, "training", types=[7])


def test_testing_split_without_boxes_and_sensor_sizes(root):
    split = root / "testing"
    write_segment(split, SEGMENT_B, IMAGES_B, [], calibration=False)
    shutil.rmtree(split / "camera_box")
    index = load_waymo(root, "testing", with_boxes=False)
    assert [len(f) for _, f in index.frames()] == [0, 0]
    assert (index.videos[0].frames[0].width, index.videos[0].frames[0].height) == (1920, 1280)
    with pytest.raises(AnnotationError, match="image is 32x24 but the annotation says 1920x1280"):
        load_frame(index.videos[0], index.videos[0].frames[0])


def test_index_is_cached(root, tmp_path):
    first = load_waymo(root, "training", cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.pkl"))) == 1
    second = load_waymo(root, "training", cache_dir=tmp_path / "cache")
    assert [v.name for v in second.videos] == [v.name for v in first.videos]
    assert second.skipped == first.skipped


# ------------------------------------------------------------------ bad input
def rewrite_boxes(root: Path, boxes: list[tuple]) -> Path:
    write_segment(root / "training", SEGMENT_A, IMAGES_A, boxes)
    return root / "training" / "camera_box" / f"{SEGMENT_A}.parquet"


@pytest.mark.parametrize("boxes, message", [
    ([(1000, FRONT, "x", 10, 8, 8, 6, 7)], r"row 0 .*unknown \[CameraBoxComponent\].type 7"),
    ([(1300, FRONT, "x", 10, 8, 8, 6, VEHICLE)], r"row 0 \(frame_timestamp_micros=1300.*no such image in .*camera_image"),
    ([(1000, FRONT, "x", 100, 8, 8, 6, VEHICLE)], r"row 0 .*lies outside the 32x24 image"),
    ([(1000, FRONT, "x", 10, 8, 0, 6, VEHICLE)], r"row 0 .*non-positive width or height"),
])
def test_bad_boxes_name_file_and_row(root, boxes, message):
    box_file = rewrite_boxes(root, boxes)
    with pytest.raises(AnnotationError, match=f"^{box_file}: {message}"):
        load_waymo(root, "training")


def test_truncated_missing_and_incomplete_parquet(root):
    box_file = root / "training" / "camera_box" / f"{SEGMENT_A}.parquet"
    data = box_file.read_bytes()
    box_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(AnnotationError, match=f"^{box_file}: cannot read parquet file \\(truncated"):
        load_waymo(root, "training")
    box_file.unlink()
    with pytest.raises(AnnotationError, match=f"^{box_file}: file missing"):
        load_waymo(root, "training")
    pq.write_table(pa.table({"key.camera_name": pa.array([1], pa.int8())}), box_file)
    with pytest.raises(AnnotationError, match=f"^{box_file}: missing column.*key.frame_timestamp_micros"):
        load_waymo(root, "training")


def test_duplicate_image_and_wrong_segment_name(root):
    write_segment(root / "training", SEGMENT_A, IMAGES_A + [(1000, FRONT)], BOXES_A)
    image_file = root / "training" / "camera_image" / f"{SEGMENT_A}.parquet"
    with pytest.raises(AnnotationError, match=f"^{image_file}: rows 1 and 6 are both the image of "
                                              "frame_timestamp_micros=1000, camera_name=1"):
        load_waymo(root, "training")
    write_segment(root / "training", SEGMENT_A, IMAGES_A, BOXES_A)
    image_file.rename(image_file.with_name("renamed.parquet"))
    with pytest.raises(AnnotationError, match="renamed.parquet: key.segment_context_name is .* expected 'renamed'"):
        load_waymo(root, "training", segments=["renamed"], with_boxes=False)


def test_load_frame_names_an_unreadable_image_file(root):
    index = load_waymo(root, "training")
    video = index.videos[0]
    image_file = video.frames[0].image_path
    data = image_file.read_bytes()
    image_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(AnnotationError, match=f"^{image_file}: cannot decode image .*image id 0.*not a readable parquet"):
        load_frame(video, video.frames[0])
    image_file.unlink()
    with pytest.raises(AnnotationError, match=f"^{image_file}: image file missing"):
        load_frame(video, video.frames[0])


# ------------------------------------------------------------------ the config
def test_config_composes_and_yields_clips(root, tmp_path):
    cfg = compose_train(["data=waymo", f"data.root={root}", "data.image_size=[24,32]",
                         "data.train_sources.waymo.types=[1,2,4]", "data.num_classes=3",
                         f"paths.cache_dir={tmp_path / 'cache'}"]).data
    assert (cfg.sampling, cfg.clip_stride, cfg.frames_per_clip) == ("clip", 8, 2)
    [source] = instantiate(cfg.train_sources).values()
    index = source()
    clips = ClipDataset(index, FrameTransform(cfg.image_size, train=True, **cfg.augment), stride=1)
    batch = collate_clips([clips[0], clips[1]])
    assert batch["images"].shape == (4, 3, 24, 32)
    paper = compose_train(["data=waymo", "data.root=/x"]).data
    assert paper.num_classes == 1 and list(paper.train_sources.waymo.types) == [1]
    assert list(paper.image_size) == [1024, 1024] and paper.val_source.split == "validation"
    assert paper.val_source.root == "/x"
