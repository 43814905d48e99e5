"""MOTS adapter on tiny MOTSChallenge and KITTI-MOTS datasets in their real layouts."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from dataset_layouts import HEIGHT, WIDTH, load_data_config, write_image
from datamodules.adapters.mots import mots_split
from datamodules.schema import AnnotationError

SEQINFO = ("[Sequence]\nname={name}\nimDir=img1\nframeRate=30\nseqLength={length}\n"
           "imWidth={w}\nimHeight={h}\nimExt=.jpg\n")


def rle(x1: int, y1: int, x2: int, y2: int, height: int = HEIGHT, width: int = WIDTH) -> str:
    """Compressed RLE string (column-major, as the MOTS txt files hold) of a filled rectangle."""
    mask = np.zeros((height, width), np.uint8)
    mask[y1:y2, x1:x2] = 1
    return mask_utils.encode(np.asfortranarray(mask))["counts"].decode("ascii")


def row(frame: int, object_id: int, cls: int, box=(2, 3, 9, 11), height: int = HEIGHT, width: int = WIDTH) -> str:
    """``time_frame object_id class_id img_height img_width rle``."""
    return f"{frame} {object_id} {cls} {height} {width} {rle(*box, height=height, width=width)}\n"


def write_motschallenge_sequence(root: Path, name: str, length: int, gt: str) -> Path:
    seq = root / "train" / name
    for frame in range(1, length + 1):
        write_image(seq / "img1" / f"{frame:06d}.jpg")
    (seq / "seqinfo.ini").write_text(SEQINFO.format(name=name, length=length, w=WIDTH, h=HEIGHT))
    (seq / "gt").mkdir()
    (seq / "gt" / "gt.txt").write_text(gt)
    return seq


def write_kitti_sequence(root: Path, number: int, length: int, txt: str) -> None:
    for frame in range(length):
        write_image(root / "training" / "image_02" / f"{number:04d}" / f"{frame:06d}.png")
    (root / "instances_txt").mkdir(exist_ok=True)
    (root / "instances_txt" / f"{number:04d}.txt").write_text(txt)


@pytest.fixture(scope="module")
def mots20(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("MOTS20")
    gt = (row(1, 2001, 2) + row(1, 2002, 2, (20, 5, 30, 20)) + row(1, 10000, 10, (0, 0, 4, 4))
          + row(2, 2001, 2, (3, 3, 10, 11)) + row(3, 2001, 2, (4, 3, 11, 11)) + row(4, 2002, 2, (0, 0, 0, 0)))
    write_motschallenge_sequence(root, "MOTS20-02", 4, gt)
    write_motschallenge_sequence(root, "MOTS20-05", 2, row(1, 2001, 2) + row(2, 2001, 2))
    return root


@pytest.fixture(scope="module")
def kitti(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("KITTI_MOTS")
    write_kitti_sequence(root, 0, 3, row(0, 1001, 1) + row(1, 1001, 1) + row(2, 2004, 2, (10, 1, 14, 20)))
    write_kitti_sequence(root, 2, 2, row(0, 1001, 1, (0, 0, 32, 24)) + row(1, 10000, 10, (5, 5, 6, 6)))
    return root


def test_motschallenge_masks_boxes_ids_and_ignore_regions(mots20):
    index = mots_split(mots20, "all")
    assert index.category_names == ["car", "pedestrian"] and [c.id for c in index.categories] == [1, 2]
    assert [v.name for v in index.videos] == ["MOTS20-02", "MOTS20-05"]
    first = index.videos[0].frames[0]
    assert first.image_path == mots20 / "train" / "MOTS20-02" / "img1" / "000001.jpg"
    assert [f.frame_index for f in index.videos[0].frames] == [0, 1, 2, 3]  # 1-based in the file
    # two pedestrians, then the ignore region once per category
    assert first.boxes.tolist() == [[2, 3, 9, 11], [20, 5, 30, 20], [0, 0, 4, 4], [0, 0, 4, 4]]
    assert first.labels.tolist() == [1, 1, 0, 1]
    assert first.iscrowd.tolist() == [False, False, True, True]
    assert first.track_ids[2:].tolist() == [-1, -1]
    decoded = mask_utils.decode(first.masks[1])
    assert decoded.shape == (HEIGHT, WIDTH) and decoded.sum() == 10 * 15 and decoded[5:20, 20:30].all()
    assert isinstance(first.masks[0]["counts"], str) and first.masks[0]["size"] == [HEIGHT, WIDTH]
    assert len(index.videos[0].frames[3]) == 0  # its only mask is empty
    assert dict(index.skipped) == {"empty_mask": 1}
    assert index.skip_examples["empty_mask"] == [f"{mots20}/train/MOTS20-02/gt/gt.txt:6"]


def test_track_ids_follow_objects_and_are_unique_across_sequences(mots20):
    index = mots_split(mots20, "all")
    seq02, seq05 = index.videos
    track = {int(f.track_ids[0]) for f in seq02.frames[:3]}
    assert len(track) == 1
    assert track.isdisjoint({int(f.track_ids[0]) for f in seq05.frames})
    assert seq02.frames[0].track_ids[1] not in track


def test_motschallenge_halves(mots20):
    train, val = mots_split(mots20, "train"), mots_split(mots20, "val")
    assert [f.frame_index for f in train.videos[0].frames] == [0, 1]
    assert [f.frame_index for f in val.videos[0].frames] == [2, 3]
    assert not train.skipped and dict(val.skipped) == {"empty_mask": 1}


def test_kitti_mots_zero_based_frames_and_paper_split(kitti):
    index = mots_split(kitti, "all", flavour="kitti_mots")
    assert [v.name for v in index.videos] == ["0000", "0002"]
    frames = index.videos[0].frames
    assert [f.frame_index for f in frames] == [0, 1, 2]
    assert frames[0].image_path == kitti / "training" / "image_02" / "0000" / "000000.png"
    assert (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)  # from the PNG header
    assert frames[0].labels.tolist() == [0] and frames[2].labels.tolist() == [1]
    assert frames[2].boxes.tolist() == [[10, 1, 14, 20]]
    assert [v.name for v in mots_split(kitti, "train", flavour="kitti_mots").videos] == ["0000"]
    val = mots_split(kitti, "val", flavour="kitti_mots")
    assert [v.name for v in val.videos] == ["0002"]
    assert val.videos[0].frames[1].iscrowd.tolist() == [True, True]


@pytest.mark.parametrize("gt, message", [
    (row(1, 2001, 2) + "2 2001 2 24 32\n", "gt.txt:2: expected 6 space-separated fields"),
    (row(1, 3001, 2), "gt.txt:1: object_id 3001 does not encode class 2"),
    (row(1, 3001, 3), "gt.txt:1: unknown class 3"),
    (row(1, 2001, 2) + row(1, 2001, 2), "gt.txt:2: object_id 2001 appears twice in frame 1"),
    (row(5, 2001, 2), "gt.txt:1: frame 5 has no image in MOTS20-09"),
    (row(1, 2001, 2, height=48, width=64), "gt.txt:1: image size 48x64 (h x w) differs from the sequence's 24x32"),
    ("1 2001 2 24 32 ZZZZ9\n", "gt.txt:1: malformed or truncated RLE"),
    (row(1, 2001, 2) + row(2, 2001, 2)[:-4] + "\n", "gt.txt:2: malformed or truncated RLE"),
])
def test_malformed_gt_names_file_and_line(tmp_path, gt, message):
    write_motschallenge_sequence(tmp_path, "MOTS20-09", 4, gt)
    with pytest.raises(AnnotationError, match=re.escape(message)):
        mots_split(tmp_path, "all")


def test_kitti_frame_without_image_and_missing_images(tmp_path):
    write_kitti_sequence(tmp_path, 4, 2, row(0, 1001, 1) + row(2, 1001, 1))
    with pytest.raises(AnnotationError, match=re.escape("0004.txt:2: frame 2 has no image in 0004")):
        mots_split(tmp_path, "all", flavour="kitti_mots")
    seq = write_motschallenge_sequence(tmp_path, "MOTS20-11", 3, row(1, 2001, 2))
    (seq / "img1" / "000002.jpg").unlink()
    with pytest.raises(AnnotationError, match=re.escape("img1/000002.jpg: image missing (frame 2 of MOTS20-11)")):
        mots_split(tmp_path, "all")


def test_config_loads_both_flavours(mots20, kitti):
    (train,), val = load_data_config("mots", mots20)
    assert (train.split, val.split) == ("train", "val") and len(train.videos) == len(val.videos) == 2
    (train,), val = load_data_config("mots", kitti, "data.train_sources.mots.flavour=kitti_mots")
    assert [v.name for v in train.videos] == ["0000"] and [v.name for v in val.videos] == ["0002"]
