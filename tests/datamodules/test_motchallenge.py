"""MOTChallenge adapter on a tiny MOT17-layout dataset (seqinfo.ini, img1/, gt/gt.txt, det/det.txt)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from dataset_layouts import HEIGHT, WIDTH, load_data_config, write_image
from datamodules.adapters.motchallenge import motchallenge_split, public_detections, read_seqinfo
from datamodules.schema import AnnotationError

SEQINFO = """[Sequence]
name={name}
imDir=img1
frameRate=30
seqLength={length}
imWidth={width}
imHeight={height}
imExt=.jpg
"""

# frame, id, bb_left, bb_top, bb_width, bb_height, consider, class, visibility (MOT17 gt.txt)
GT_02 = """1,1,2,3,10,8,1,1,1
2,1,3,3,10,8,1,1,0.8
3,1,4,3,10,8,1,1,0.5
4,1,5,3,10,8,1,1,0.5
1,2,-4,10,8,6,1,1,0.6
1,3,20,2,5,5,0,7,1
2,4,1,1,4,4,0,3,1
3,5,10,10,4,4,0,1,1
4,6,40,2,4,4,1,1,1
"""
GT_04 = """1,1,0,0,6,6,1,1,1
2,1,1,0,6,6,1,1,1
"""
# frame, -1, bb_left, bb_top, bb_width, bb_height, score, -1, -1, -1 (MOT17 det.txt)
DET_02 = """1,-1,1.5,2.5,10,8,0.91,-1,-1,-1
3,-1,4,3,9,7,0.35,-1,-1,-1
"""


def write_sequence(folder: Path, name: str, length: int, gt: str | None, det: str = DET_02) -> Path:
    seq = folder / name
    for frame in range(1, length + 1):
        write_image(seq / "img1" / f"{frame:06d}.jpg")
    (seq / "seqinfo.ini").write_text(SEQINFO.format(name=name, length=length, width=WIDTH, height=HEIGHT))
    (seq / "det").mkdir()
    (seq / "det" / "det.txt").write_text(det)
    if gt is not None:
        (seq / "gt").mkdir()
        (seq / "gt" / "gt.txt").write_text(gt)
    return seq


@pytest.fixture(scope="module")
def mot17(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("MOT17")
    write_sequence(root / "train", "MOT17-02-FRCNN", 4, GT_02)
    write_sequence(root / "train", "MOT17-02-DPM", 4, GT_02)
    write_sequence(root / "train", "MOT17-04-FRCNN", 2, GT_04)
    write_sequence(root / "test", "MOT17-01-FRCNN", 3, None)
    return root


def boxes_of(index, video: str, frame_index: int):
    frame = next(v for v in index.videos if v.name == video).frames[frame_index]
    return frame.boxes.tolist(), frame.track_ids.tolist(), frame.iscrowd.tolist()


def test_all_frames_follow_the_evaluation_rules(mot17):
    index = motchallenge_split(mot17, "all")
    assert [v.name for v in index.videos] == ["MOT17-02-FRCNN", "MOT17-04-FRCNN"]  # detector=FRCNN
    assert index.category_names == ["pedestrian"] and index.categories[0].id == 1
    seq = index.videos[0]
    assert [f.frame_index for f in seq.frames] == [0, 1, 2, 3]  # 1-based frames -> 0-based
    assert seq.frames[0].image_path == mot17 / "train" / "MOT17-02-FRCNN" / "img1" / "000001.jpg"
    assert (seq.frames[0].width, seq.frames[0].height) == (WIDTH, HEIGHT)
    boxes, tids, crowd = boxes_of(index, "MOT17-02-FRCNN", 0)
    # id 1 as written (x1 = bb_left, x2 = bb_left + w); id 2 clipped at x = 0; static person = ignore
    assert boxes == [[2, 3, 12, 11], [0, 10, 4, 16], [20, 2, 25, 7]]
    assert crowd == [False, False, True] and tids[2] == -1
    assert all(f.labels.tolist() == [0] * len(f) for f in seq.frames)
    assert len(seq.frames[1]) == 1 and len(seq.frames[2]) == 1 and len(seq.frames[3]) == 1
    assert dict(index.skipped) == {"box_clipped": 1, "non_pedestrian_class": 1, "zero_marked": 1,
                                   "box_outside_image": 1}
    gt = mot17 / "train" / "MOT17-02-FRCNN" / "gt" / "gt.txt"
    assert index.skip_examples["zero_marked"] == [f"{gt}:8"]
    assert index.skip_examples["box_outside_image"] == [f"{gt}:9"]


def test_track_ids_are_unique_across_sequences(mot17):
    index = motchallenge_split(mot17, "all")
    id1_in_02 = {int(f.track_ids[0]) for f in index.videos[0].frames}
    id1_in_04 = {int(f.track_ids[0]) for f in index.videos[1].frames}
    assert len(id1_in_02) == 1 and len(id1_in_04) == 1 and id1_in_02 != id1_in_04
    image_ids = [f.image_id for _, f in index.frames()]
    assert len(set(image_ids)) == len(image_ids) == 6


def test_half_split_and_detector_choice(mot17):
    train, val = motchallenge_split(mot17, "train"), motchallenge_split(mot17, "val")
    assert [f.frame_index for f in train.videos[0].frames] == [0, 1]
    assert [f.frame_index for f in val.videos[0].frames] == [2, 3]
    assert dict(train.skipped) == {"box_clipped": 1, "non_pedestrian_class": 1}
    assert dict(val.skipped) == {"zero_marked": 1, "box_outside_image": 1}
    both = motchallenge_split(mot17, "all", detector=None, sequences=["MOT17-02-DPM", "MOT17-02-FRCNN"])
    assert [v.name for v in both.videos] == ["MOT17-02-DPM", "MOT17-02-FRCNN"]


def test_test_split_has_frames_without_annotations(mot17):
    index = motchallenge_split(mot17, "test")
    assert [v.name for v in index.videos] == ["MOT17-01-FRCNN"]
    assert [len(f) for f in index.videos[0].frames] == [0, 0, 0]


def test_public_detections_per_frame(mot17):
    frames = public_detections(mot17 / "train" / "MOT17-02-FRCNN")
    assert len(frames) == 4  # seqLength
    np.testing.assert_allclose(frames[0].boxes, [[1.5, 2.5, 11.5, 10.5]])
    np.testing.assert_allclose(frames[2].scores, [0.35])
    assert len(frames[1].boxes) == 0 and len(frames[3].boxes) == 0


def test_seqinfo_fields(mot17):
    info = read_seqinfo(mot17 / "train" / "MOT17-02-FRCNN" / "seqinfo.ini")
    assert (info.name, info.im_dir, info.length, info.width, info.height, info.im_ext) == (
        "MOT17-02-FRCNN", "img1", 4, WIDTH, HEIGHT, ".jpg")
    assert info.image_name(12) == "000012.jpg"


@pytest.mark.parametrize("gt, message", [
    ("1,1,2,3,10,8,1,1,1\n1,2,3\n", "gt.txt:2: expected at least 6"),
    ("1,1,2,3,10,8,1,1,1\n2,1,2,3,10,8,1,1\n", "gt.txt:2: expected 9 columns"),
    ("1,1,2,3,10,8,1,1,1\n2,7,2,3,10,8,1,14,1\n", "gt.txt:2: unknown class 14"),
    ("1,1,2,3,10,8,1,1,1\n1,1,5,3,10,8,1,1,1\n", "gt.txt:2: id 1 appears twice in frame 1"),
    ("9,1,2,3,10,8,1,1,1\n", "gt.txt:1: frame 9 outside 1..4"),
    ("1.5,1,2,3,10,8,1,1,1\n", "gt.txt:1: frame 1.5 is not an integer"),
    ("1,1,2,3,0,8,1,1,1\n", "gt.txt:1: box (x1, y1, x2, y2) [2.0, 3.0, 2.0, 11.0] has a non-positive"),
])
def test_malformed_gt_names_file_and_line(tmp_path, gt, message):
    write_sequence(tmp_path / "train", "MOT17-09-FRCNN", 4, gt)
    with pytest.raises(AnnotationError, match=re.escape(message)):
        motchallenge_split(tmp_path, "all")


def test_missing_image_and_bad_seqinfo_are_named(tmp_path):
    seq = write_sequence(tmp_path / "train", "MOT17-09-FRCNN", 4, GT_04)
    (seq / "img1" / "000003.jpg").unlink()
    with pytest.raises(AnnotationError, match=r"img1/000003.jpg: image missing \(frame 3 of MOT17-09-FRCNN"):
        motchallenge_split(tmp_path, "all")
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=MOT17-09-FRCNN\nimDir=img1\nseqLength=four\n")
    with pytest.raises(AnnotationError, match=r"seqinfo.ini: \[Sequence\] seqLength='four' is not a positive"):
        motchallenge_split(tmp_path, "all")
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=MOT17-09-FRCNN\nseqLength=4\n")
    with pytest.raises(AnnotationError, match=r"seqinfo.ini: \[Sequence\] lacks imDir"):
        motchallenge_split(tmp_path, "all")


def test_missing_gt_is_named(tmp_path):
    write_sequence(tmp_path / "train", "MOT17-09-FRCNN", 2, None)
    with pytest.raises(AnnotationError, match=r"gt/gt.txt: file missing"):
        motchallenge_split(tmp_path, "train")


def test_config_loads_the_half_split(mot17):
    (train,), val = load_data_config("motchallenge", mot17)
    assert [v.name for v in train.videos] == ["MOT17-02-FRCNN", "MOT17-04-FRCNN"]
    assert (train.num_frames, val.num_frames) == (2 + 1, 2 + 1)
