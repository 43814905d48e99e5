"""GOT-10k, LaSOT and OxUvA adapters on tiny copies of their real file layouts and formats."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hydra.utils import instantiate
from PIL import Image

from conftest import compose_train
from datamodules.adapters.got10k import load_got10k
from datamodules.adapters.lasot import LASOT_CATEGORIES, load_lasot
from datamodules.adapters.oxuva import load_oxuva
from datamodules.datasets import ClipDataset, collate_clips, load_frame
from datamodules.schema import AnnotationError
from datamodules.transforms import FrameTransform

W, H = 40, 30


def write_images(folder: Path, names: list[str], size=(W, H)) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 200)).save(buffer, format="JPEG")
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(buffer.getvalue())


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def frames(n: int) -> list[str]:
    return [f"{i:08d}.jpg" for i in range(1, n + 1)]


# =======================================================================================
# GOT-10k
# =======================================================================================
META = """[METAINFO]
url: https://youtu.be/xxxxxxxxxxx
begin_time: 0000:00:01
end_time: 0000:00:02
anno_fps: 10Hz
object_class: ichneumon
motion_class: walking
major_class: viverrine
root_class: animal
motion_adverb: slowly
resolution: ({w}, {h})
"""


def write_got_sequence(seq: Path, boxes: list[str], absence: list[int] | None, cover: list[int] | None,
                       num_images: int | None = None, meta: bool = True) -> None:
    write_images(seq, frames(num_images or len(boxes)))
    write_lines(seq / "groundtruth.txt", boxes)
    if absence is not None:
        write_lines(seq / "absence.label", [str(a) for a in absence])
        write_lines(seq / "cut_by_image.label", ["0"] * len(boxes))
    if cover is not None:
        write_lines(seq / "cover.label", [str(c) for c in cover])
    if meta:
        (seq / "meta_info.ini").write_text(META.format(w=W, h=H))


@pytest.fixture
def got10k(tmp_path) -> Path:
    root = tmp_path / "got10k"
    train = root / "train"
    write_lines(train / "list.txt", ["GOT-10k_Train_000001", "GOT-10k_Train_000002"])
    write_got_sequence(train / "GOT-10k_Train_000001",
                       ["2.0000,3.0000,10.0000,8.0000", "4.0000,3.0000,10.0000,8.0000",
                        "0.0000,0.0000,0.0000,0.0000", "6.0000,5.0000,10.0000,8.0000"],
                       absence=[0, 0, 1, 0], cover=[8, 6, 0, 0])  # frame 4: fully covered
    write_got_sequence(train / "GOT-10k_Train_000002", ["30.0000,20.0000,15.0000,12.0000"] * 2,
                       absence=[0, 0], cover=[8, 8], meta=False)  # x2 = 45: 5 px past the border
    write_lines(root / "val" / "list.txt", ["GOT-10k_Val_000001"])
    write_got_sequence(root / "val" / "GOT-10k_Val_000001", ["1.0000,2.0000,5.0000,6.0000"] * 2, [0, 0], [8, 8])
    test = root / "test"
    write_lines(test / "list.txt", ["GOT-10k_Test_000001"])
    write_got_sequence(test / "GOT-10k_Test_000001", ["1.0000,2.0000,5.0000,6.0000"], None, None, num_images=3)
    return root


def test_got10k_boxes_absence_and_ids(got10k):
    index = load_got10k(got10k, "train")
    assert index.category_names == ["object"] and index.split == "train"
    assert [v.name for v in index.videos] == ["GOT-10k_Train_000001", "GOT-10k_Train_000002"]
    first, second = index.videos
    assert [len(f) for f in first.frames] == [1, 1, 0, 0]  # absence.label 1, cover.label 0
    np.testing.assert_array_equal(first.frames[0].boxes, [[2, 3, 12, 11]])
    np.testing.assert_array_equal(first.frames[1].boxes, [[4, 3, 14, 11]])
    assert first.frames[2].image_path == got10k / "train" / "GOT-10k_Train_000001" / "00000003.jpg"
    assert [f.frame_index for f in first.frames] == [0, 1, 2, 3]
    assert [f.image_id for _, f in index.frames()] == list(range(6))
    assert {int(t) for f in first.frames for t in f.track_ids} == {0}
    assert {int(t) for f in second.frames for t in f.track_ids} == {1}
    assert all(f.labels.tolist() == [0] * len(f) for _, f in index.frames())
    assert all((f.width, f.height) == (W, H) for _, f in index.frames())  # meta_info.ini / header
    np.testing.assert_array_equal(second.frames[0].boxes, [[30, 20, 40, 30]])  # clipped, counted
    gt = got10k / "train" / "GOT-10k_Train_000002" / "groundtruth.txt"
    assert index.skipped == {"box_clipped": 2}
    assert index.skip_examples["box_clipped"] == [f"{gt}:1", f"{gt}:2"]
    sample = load_frame(first, first.frames[0])
    assert sample["image"].size == (W, H) and sample["track_ids"].tolist() == [0]


def test_got10k_test_split_labels_the_first_frame_only(got10k):
    index = load_got10k(got10k, "test")
    assert [len(f) for f in index.videos[0].frames] == [1, 0, 0]
    np.testing.assert_array_equal(index.videos[0].frames[0].boxes, [[1, 2, 6, 8]])


@pytest.mark.parametrize("edit, message", [
    (lambda s: write_lines(s / "groundtruth.txt", ["1,2,3,4", "1,2,3", "1,2,3,4", "1,2,3,4"]),
     r"groundtruth.txt:2: expected 4 fields, got 3"),
    (lambda s: write_lines(s / "groundtruth.txt", ["1,2,3,4", "1,2,x,4", "1,2,3,4", "1,2,3,4"]),
     r"groundtruth.txt:2: non-numeric field"),
    (lambda s: write_lines(s / "absence.label", ["0", "0", "1"]), r"absence.label: 3 flags but 4 ground-truth frames"),
    (lambda s: (s / "00000002.jpg").unlink(), r"00000002.jpg: image missing"),
    (lambda s: write_images(s, ["00000005.jpg"]), r"groundtruth.txt: 4 frames but .* holds 5 images"),
    (lambda s: write_lines(s / "groundtruth.txt", ["1,2,3,4", "50,40,3,4", "1,2,3,4", "1,2,3,4"]),
     r"groundtruth.txt:2: box .* lies outside the 40x30 image"),
    (lambda s: (s / "groundtruth.txt").unlink(), r"groundtruth.txt: file missing"),
])
def test_got10k_malformed_sequence_names_file_and_line(got10k, edit, message):
    seq = got10k / "train" / "GOT-10k_Train_000001"
    edit(seq)
    with pytest.raises(AnnotationError, match=f"^{seq}/{message}"):
        load_got10k(got10k, "train")


def test_got10k_bad_lists(got10k):
    list_file = write_lines(got10k / "train" / "list.txt", ["GOT-10k_Train_000001", "", "GOT-10k_Train_000009"])
    with pytest.raises(AnnotationError, match=f"^{list_file}:3: sequence folder .*GOT-10k_Train_000009 missing"):
        load_got10k(got10k, "train")
    seq = got10k / "test" / "GOT-10k_Test_000001"
    write_lines(seq / "groundtruth.txt", ["1,2,5,6", "1,2,5,6"])
    with pytest.raises(AnnotationError, match="groundtruth.txt: 2 lines, expected the first frame only"):
        load_got10k(got10k, "test")


# =======================================================================================
# LaSOT
# =======================================================================================
def write_lasot_sequence(root: Path, name: str, boxes: list[str], occlusion: list[int], out_of_view: list[int]):
    seq = root / name.rsplit("-", 1)[0] / name
    write_images(seq / "img", frames(len(boxes)))
    write_lines(seq / "groundtruth.txt", boxes)
    write_lines(seq / "full_occlusion.txt", [",".join(map(str, occlusion))])
    write_lines(seq / "out_of_view.txt", [",".join(map(str, out_of_view))])
    write_lines(seq / "nlp.txt", ["white airplane flying in the sky"])
    return seq


@pytest.fixture
def lasot(tmp_path) -> Path:
    root = tmp_path / "lasot"
    write_lasot_sequence(root, "airplane-10", ["1,2,10,8", "2,2,10,8", "3,2,10,8"], [0, 1, 0], [0, 0, 0])
    write_lasot_sequence(root, "airplane-2", ["5,5,4,4", "6,5,4,4"], [0, 0], [0, 1])
    write_lasot_sequence(root, "zebra-1", ["0,0,40,30", "1,1,20,20"], [0, 0], [0, 0])
    write_lines(root / "training_set.txt", ["airplane-2", "airplane-10"])
    write_lines(root / "testing_set.txt", ["zebra-1"])
    return root


def test_lasot_all_sequences_with_occlusion_and_out_of_view(lasot):
    index = load_lasot(lasot)
    assert [v.name for v in index.videos] == ["airplane-2", "airplane-10", "zebra-1"]  # numeric order
    plane2, plane10, zebra = index.videos
    assert [len(f) for f in plane10.frames] == [1, 0, 1]  # full occlusion
    assert [len(f) for f in plane2.frames] == [1, 0]  # out of view
    np.testing.assert_array_equal(plane10.frames[2].boxes, [[3, 2, 13, 10]])
    assert plane10.frames[0].image_path == lasot / "airplane" / "airplane-10" / "img" / "00000001.jpg"
    assert index.category_names == ["object"] and not index.skipped
    assert [sorted({int(t) for f in v.frames for t in f.track_ids}) for v in index.videos] == [[0], [1], [2]]
    assert (zebra.frames[0].width, zebra.frames[0].height) == (W, H)  # from the image header
    assert load_frame(zebra, zebra.frames[1])["boxes"].tolist() == [[1, 1, 21, 21]]


def test_lasot_split_files_and_categories(lasot):
    assert len(LASOT_CATEGORIES) == 70
    train = load_lasot(lasot, split="train", split_file=lasot / "training_set.txt", class_agnostic=False)
    assert [v.name for v in train.videos] == ["airplane-2", "airplane-10"] and train.split == "train"
    assert len(train.categories) == 70 and train.categories[0].name == "airplane"
    test = load_lasot(lasot, split="test", split_file=lasot / "testing_set.txt", class_agnostic=False)
    assert [v.name for v in test.videos] == ["zebra-1"]
    assert {int(label) for _, f in test.frames() for label in f.labels} == {LASOT_CATEGORIES.index("zebra")}


def test_lasot_bad_input(lasot):
    split = write_lines(lasot / "testing_set.txt", ["zebra-1", "unicorn-3"])
    with pytest.raises(AnnotationError, match=f"^{split}:2: unknown LaSOT category 'unicorn'"):
        load_lasot(lasot, split_file=split)
    write_lines(split, ["zebra-1", "zebra-7"])
    with pytest.raises(AnnotationError, match=f"^{split}:2: sequence folder .*zebra/zebra-7 missing"):
        load_lasot(lasot, split_file=split)
    write_lines(split, ["zebra-1", "zebra-1"])
    with pytest.raises(AnnotationError, match=f"^{split}:2: 'zebra-1' is also on line 1"):
        load_lasot(lasot, split_file=split)
    seq = lasot / "zebra" / "zebra-1"
    write_lines(seq / "full_occlusion.txt", ["0,0,0"])
    with pytest.raises(AnnotationError, match=f"^{seq}/full_occlusion.txt: 3 flags but 2 ground-truth frames"):
        load_lasot(lasot)
    (lasot / "dinosaur" / "dinosaur-1").mkdir(parents=True)
    with pytest.raises(AnnotationError, match=f"^{lasot}/dinosaur: unknown LaSOT category 'dinosaur'"):
        load_lasot(lasot)


# =======================================================================================
# OxUvA
# =======================================================================================
def annotation(video, obj, frame, present, box=(0.25, 0.75, 0.2, 0.6), cls=("20", "elephant")):
    values = box if present else (0.0, 0.0, 0.0, 0.0)
    return ",".join([video, obj, *cls, "unknown", "true", str(frame), "present" if present else "absent",
                     *map(str, values)])


@pytest.fixture
def oxuva(tmp_path) -> Path:
    root = tmp_path / "oxuva"
    write_images(root / "images" / "dev" / "vid0000", [f"{i:06d}.jpeg" for i in range(61)])
    write_images(root / "images" / "dev" / "vid0001", [f"{i:06d}.jpeg" for i in range(31)], size=(80, 60))
    write_images(root / "images" / "test" / "vid0002", [f"{i:06d}.jpeg" for i in range(31)])
    write_lines(root / "annotations" / "dev.csv", [
        annotation("vid0000", "obj0000", 0, True),
        annotation("vid0000", "obj0000", 30, False),
        annotation("vid0000", "obj0000", 60, True, box=(0.5, 1.0, 0.0, 1.0)),
        annotation("vid0000", "obj0001", 30, True, box=(0.0, 0.5, 0.5, 1.0), cls=("5", "bear")),
        annotation("vid0001", "obj0000", 0, True),
        annotation("vid0001", "obj0000", 30, True),
    ])
    write_lines(root / "tasks" / "dev.csv", [
        "vid0001,obj0000,0,30,0.25,0.75,0.2,0.6",
        "vid0000,obj0000,0,60,0.25,0.75,0.2,0.6",
        "vid0000,obj0001,30,30,0.0,0.5,0.5,1.0",
    ])
    write_lines(root / "tasks" / "test.csv", ["vid0002,obj0000,0,30,0.1,0.6,0.2,0.4"])
    return root


def test_oxuva_annotated_frames(oxuva):
    index = load_oxuva(oxuva, "dev")
    assert [v.name for v in index.videos] == ["vid0000", "vid0001"] and index.category_names == ["object"]
    vid0, vid1 = index.videos
    assert [f.frame_index for f in vid0.frames] == [0, 30, 60]
    assert vid0.frames[1].image_path == oxuva / "images" / "dev" / "vid0000" / "000030.jpeg"
    np.testing.assert_allclose(vid0.frames[0].boxes, [[10, 6, 30, 18]])  # fractions x 40x30
    np.testing.assert_allclose(vid0.frames[1].boxes, [[0, 15, 20, 30]])  # obj0000 absent, obj0001 present
    np.testing.assert_allclose(vid0.frames[2].boxes, [[20, 0, 40, 30]])
    obj0, obj1 = vid0.frames[0].track_ids[0], vid0.frames[1].track_ids[0]
    assert obj0 == vid0.frames[2].track_ids[0] != obj1 and vid1.frames[0].track_ids[0] not in (obj0, obj1)
    np.testing.assert_allclose(vid1.frames[0].boxes, [[20, 12, 60, 36]])  # fractions x 80x60
    assert [f.image_id for _, f in index.frames()] == list(range(5)) and not index.skipped
    assert load_frame(vid1, vid1.frames[0])["image"].size == (80, 60)


def test_oxuva_all_frames_and_test_tasks(oxuva):
    index = load_oxuva(oxuva, "dev", frames="all")
    vid0 = index.videos[0]
    assert [f.frame_index for f in vid0.frames] == list(range(61))
    assert [f.frame_index for f in vid0.frames if len(f)] == [0, 30, 60]
    test = load_oxuva(oxuva, "test", frames="all")
    assert [len(f) for f in test.videos[0].frames] == [1] + [0] * 30  # the initial box only
    np.testing.assert_allclose(test.videos[0].frames[0].boxes, [[4, 6, 24, 12]])
    assert [f.frame_index for f in load_oxuva(oxuva, "test").videos[0].frames] == [0]


@pytest.mark.parametrize("row, message", [
    ("vid0001,obj0000,5,bear,false,false,60,present,0.1,0.2,0.3", r"dev.csv:7: 11 fields, expected 12"),
    ("vid0001,obj0000,5,bear,false,false,60,maybe,0.1,0.2,0.3,0.4", r"dev.csv:7: object_presence 'maybe' is neither"),
    ("vid0001,obj0000,5,bear,false,false,sixty,present,0.1,0.2,0.3,0.4", r"dev.csv:7: frame_num 'sixty' is not an int"),
    ("vid0001,obj0009,5,bear,false,false,60,present,0.1,0.2,0.3,0.4", r"dev.csv:7: video vid0001 object obj0009 has no"),
    ("vid0001,obj0000,5,bear,false,false,30,present,0.1,0.2,0.3,0.4", r"dev.csv:7: .* frame 30 is also labelled at .*:6"),
    ("vid0001,obj0000,5,bear,false,false,60,present,0.1,0.2,0.3,0.4", r"vid0001/000060.jpeg: image missing"),
    ("vid0000,obj0001,5,bear,false,false,60,present,0.3,0.2,0.3,0.4", r"dev.csv:7: box .* non-positive width or height"),
])
def test_oxuva_malformed_annotations(oxuva, row, message):
    path = oxuva / "annotations" / "dev.csv"
    path.write_text(path.read_text() + row + "\n")
    with pytest.raises(AnnotationError, match=f"^{oxuva}/.*{message}"):
        load_oxuva(oxuva, "dev")


def test_oxuva_malformed_tasks(oxuva):
    path = write_lines(oxuva / "tasks" / "test.csv", ["vid0002,obj0000,30,0,0.1,0.6,0.2,0.4"])
    with pytest.raises(AnnotationError, match=f"^{path}:1: last_frame 0 < init_frame 30"):
        load_oxuva(oxuva, "test")
    (oxuva / "tasks" / "test.csv").unlink()
    with pytest.raises(AnnotationError, match=f"^{path}: file missing"):
        load_oxuva(oxuva, "test")


# =======================================================================================
# The data configs
# =======================================================================================
@pytest.mark.parametrize("name, fixture, cached", [("got10k", "got10k", 2), ("lasot", "lasot", 2),
                                                   ("oxuva", "oxuva", 1)])  # OxUvA: dev twice, one entry
def test_config_composes_and_yields_clips(name, fixture, cached, request, tmp_path):
    root = request.getfixturevalue(fixture)
    cfg = compose_train([f"data={name}", f"data.root={root}", "data.image_size=[24,32]",
                         f"paths.cache_dir={tmp_path / 'cache'}"]).data
    assert cfg.sampling == "clip" and cfg.num_classes == 1
    [source] = instantiate(cfg.train_sources).values()
    index, val_index = source(), instantiate(cfg.val_source)()
    assert len(index.categories) == len(val_index.categories) == 1
    clips = ClipDataset(index, FrameTransform(cfg.image_size, train=True, **cfg.augment), cfg.clip_stride,
                        cfg.frames_per_clip)
    assert collate_clips([clips[0], clips[1]])["images"].shape == (4, 3, 24, 32)
    assert len(list((tmp_path / "cache" / "index").glob("*.pkl"))) == cached


def test_paper_default_configs():
    for name, size, val_split in (("got10k", [800, 1333], "val"), ("lasot", [608, 1088], "test"),
                                  ("oxuva", [800, 1333], "dev")):
        cfg = compose_train([f"data={name}", "data.root=/x"]).data
        assert list(cfg.image_size) == size and cfg.val_source.split == val_split
        assert cfg.val_source.root == "/x" and cfg.num_classes == 1
    lasot = compose_train(["data=lasot", "data.root=/x"]).data
    assert lasot.val_source.split_file == "/x/testing_set.txt"
    assert lasot.train_sources.lasot.split_file == "/x/training_set.txt"
