"""ImageNet VID adapter on a tiny ILSVRC2015 VID tree (Data/, Annotations/, ImageSets/)."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from dataset_layouts import HEIGHT, WIDTH, load_data_config, write_image
from datamodules.adapters import imagenet_vid
from datamodules.adapters.imagenet_vid import VID_CLASSES, imagenet_vid_split
from datamodules.schema import AnnotationError

AIRPLANE, ANTELOPE, BEAR, CAR = "n02691156", "n02419796", "n02131653", "n02958343"
SNIPPET_A = "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
SNIPPET_B = "ILSVRC2015_VID_train_0001/ILSVRC2015_train_00001000"
VAL_SNIPPET = "ILSVRC2015_val_00000000"


def annotation_xml(folder: str, frame: int, objects: list[tuple], width: int = WIDTH, height: int = HEIGHT) -> str:
    """A VID annotation file as distributed; ``objects``: (trackid, wnid, xmin, ymin, xmax, ymax);
    trackid 1 is marked as interpolated (``<generated>1``)."""
    body = "".join(
        f"\t<object>\n\t\t<trackid>{tid}</trackid>\n\t\t<name>{wnid}</name>\n\t\t<bndbox>\n"
        f"\t\t\t<xmax>{x2}</xmax>\n\t\t\t<xmin>{x1}</xmin>\n\t\t\t<ymax>{y2}</ymax>\n\t\t\t<ymin>{y1}</ymin>\n"
        f"\t\t</bndbox>\n\t\t<occluded>0</occluded>\n\t\t<generated>{int(tid == 1)}</generated>\n\t</object>\n"
        for tid, wnid, x1, y1, x2, y2 in objects)
    return (f"<annotation>\n\t<folder>{folder}</folder>\n\t<filename>{frame:06d}</filename>\n"
            f"\t<source>\n\t\t<database>ILSVRC_2015</database>\n\t</source>\n"
            f"\t<size>\n\t\t<width>{width}</width>\n\t\t<height>{height}</height>\n\t</size>\n{body}</annotation>\n")


def write_snippet(root: Path, split: str, snippet: str, frames: list[list[tuple]]) -> None:
    for frame, objects in enumerate(frames):
        write_image(root / "Data" / "VID" / split / snippet / f"{frame:06d}.JPEG")
        xml = root / "Annotations" / "VID" / split / snippet / f"{frame:06d}.xml"
        xml.parent.mkdir(parents=True, exist_ok=True)
        xml.write_text(annotation_xml(snippet, frame, objects))


def write_dataset(root: Path) -> Path:
    write_snippet(root, "train", SNIPPET_A, [
        [(0, AIRPLANE, 1, 2, 11, 12), (1, ANTELOPE, 20, 5, 30, 15)],
        [(0, AIRPLANE, 2, 2, 12, 12), (1, ANTELOPE, 20, 6, 30, 16)],
        [(0, AIRPLANE, 24, 2, 34, 12), (2, ANTELOPE, 5, 5, 5, 9)],  # clipped at x = 32; empty box
    ])
    write_snippet(root, "train", SNIPPET_B, [[(0, BEAR, 0, 0, 32, 24)], []])
    write_snippet(root, "val", VAL_SNIPPET, [[(0, CAR, 3, 4, 9, 10)], [(0, CAR, 4, 4, 10, 10)], []])
    image_sets = root / "ImageSets" / "VID"
    image_sets.mkdir(parents=True)
    (image_sets / "train_1.txt").write_text(f"{SNIPPET_A} 1\n")  # airplane
    (image_sets / "train_2.txt").write_text(f"{SNIPPET_A} 1\n")  # antelope: listed again
    (image_sets / "train_3.txt").write_text(f"{SNIPPET_B} 1\n")  # bear
    (image_sets / "val.txt").write_text("".join(f"{VAL_SNIPPET}/{f:06d} {f + 1}\n" for f in range(3)))
    return root


@pytest.fixture(scope="module")
def vid(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("ILSVRC2015"))


@pytest.fixture
def vid_copy(vid, tmp_path) -> Path:
    return Path(shutil.copytree(vid, tmp_path / "ILSVRC2015"))


def test_thirty_categories_by_wordnet_id(vid):
    index = imagenet_vid_split(vid, "val")
    assert len(index.categories) == 30 and [c.id for c in index.categories] == list(range(1, 31))
    assert index.category_names[:3] == ["airplane", "antelope", "bear"] and index.category_names[-1] == "zebra"
    assert dict(VID_CLASSES)[CAR] == "car" and len({w for w, _ in VID_CLASSES}) == 30


def test_train_snippets_boxes_labels_and_track_ids(vid):
    index = imagenet_vid_split(vid, "train")
    assert [v.name for v in index.videos] == [SNIPPET_A, SNIPPET_B]  # listed twice, indexed once
    a, b = index.videos
    assert [f.frame_index for f in a.frames] == [0, 1, 2]
    first = a.frames[0]
    assert first.image_path == vid / "Data" / "VID" / "train" / SNIPPET_A / "000000.JPEG"
    assert (first.width, first.height) == (WIDTH, HEIGHT)
    assert first.boxes.tolist() == [[1, 2, 11, 12], [20, 5, 30, 15]]
    assert first.labels.tolist() == [0, 1]  # airplane, antelope (interpolated: <generated>1, kept)
    assert a.frames[2].boxes.tolist() == [[24, 2, 32, 12]]  # clipped; the empty box skipped
    airplane, antelope = first.track_ids.tolist()
    assert a.frames[1].track_ids.tolist() == [airplane, antelope]
    bear = b.frames[0].track_ids.tolist()
    assert len(bear) == 1 and bear[0] not in (airplane, antelope)  # trackid 0 again, another snippet
    assert b.frames[0].labels.tolist() == [2] and len(b.frames[1]) == 0
    xml = vid / "Annotations" / "VID" / "train" / SNIPPET_A / "000002.xml"
    assert dict(index.skipped) == {"box_clipped": 1, "empty_box": 1}
    assert index.skip_examples == {"box_clipped": [f"{xml}: object #0"], "empty_box": [f"{xml}: object #1"]}


def test_val_frames_come_from_val_txt(vid):
    index = imagenet_vid_split(vid, "val")
    (video,) = index.videos
    assert video.name == VAL_SNIPPET and [f.frame_index for f in video.frames] == [0, 1, 2]
    assert video.frames[1].boxes.tolist() == [[4, 4, 10, 10]] and video.frames[1].labels.tolist() == [6]
    assert [len(f) for f in video.frames] == [1, 1, 0]


def test_parse_is_cached_until_the_lists_change(vid_copy, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = imagenet_vid_split(vid_copy, "train", cache_dir=cache)
    assert len(list(cache.glob("*.pkl"))) == 1

    def no_parsing(task):
        raise AssertionError(f"parsed {task.name} again")

    monkeypatch.setattr(imagenet_vid, "_parse_snippet", no_parsing)
    again = imagenet_vid_split(vid_copy, "train", cache_dir=cache)
    assert [f.boxes.tolist() for _, f in again.frames()] == [f.boxes.tolist() for _, f in first.frames()]
    assert again.skipped == first.skipped
    listing = vid_copy / "ImageSets" / "VID" / "train_3.txt"
    os.utime(listing, ns=(listing.stat().st_atime_ns, listing.stat().st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="parsed .* again"):
        imagenet_vid_split(vid_copy, "train", cache_dir=cache)


def test_worker_processes_give_the_same_index(vid):
    serial, parallel = imagenet_vid_split(vid, "train"), imagenet_vid_split(vid, "train", parse_workers=2)
    assert [(f.image_id, f.boxes.tolist(), f.track_ids.tolist()) for _, f in parallel.frames()] == \
           [(f.image_id, f.boxes.tolist(), f.track_ids.tolist()) for _, f in serial.frames()]
    assert parallel.skipped == serial.skipped and parallel.skip_examples == serial.skip_examples


@pytest.mark.parametrize("objects, message", [
    ([(0, "n99999999", 1, 1, 5, 5)], "000001.xml: object #0: unknown category 'n99999999' (not one of the 30"),
    ([(0, AIRPLANE, 1, 1, 5, 5), (0, AIRPLANE, 6, 6, 9, 9)], "000001.xml: object #1: trackid 0 appears twice"),
    ([(0, ANTELOPE, 1, 1, 5, 5)], "000001.xml: trackid 0 is n02419796 here but n02691156 in"),
    ([(0, AIRPLANE, 40, 1, 50, 5)], "000001.xml: object #0: box (x1, y1, x2, y2) [40.0, 1.0, 50.0, 5.0] lies outside"),
    ([(0, AIRPLANE, 1, 1, "abc", 5)], "000001.xml: object #0: <bndbox/xmax> 'abc' is not a number"),
    ([("x", AIRPLANE, 1, 1, 5, 5)], "000001.xml: object #0: <trackid> 'x' is not an integer"),
])
def test_bad_objects_name_file_and_object(vid_copy, objects, message):
    xml = vid_copy / "Annotations" / "VID" / "train" / SNIPPET_A / "000001.xml"
    xml.write_text(annotation_xml(SNIPPET_A, 1, objects))
    with pytest.raises(AnnotationError, match=re.escape(message)):
        imagenet_vid_split(vid_copy, "train")


def test_truncated_xml_missing_field_and_missing_image(vid_copy):
    xml = vid_copy / "Annotations" / "VID" / "train" / SNIPPET_B / "000000.xml"
    text = xml.read_text()
    xml.write_text(text[: len(text) // 2])
    with pytest.raises(AnnotationError, match=re.escape(f"{xml}: not valid XML (line")):
        imagenet_vid_split(vid_copy, "train")
    xml.write_text(text.replace("\t\t\t<ymax>24</ymax>\n", ""))
    with pytest.raises(AnnotationError, match=re.escape(f"{xml}: object #0: lacks <bndbox/ymax>")):
        imagenet_vid_split(vid_copy, "train")
    xml.write_text(text.replace("<width>32</width>", "<width>0</width>"))
    with pytest.raises(AnnotationError, match=re.escape(f"{xml}: <size/width> '0' is not a positive integer")):
        imagenet_vid_split(vid_copy, "train")
    xml.write_text(text)
    image = vid_copy / "Data" / "VID" / "train" / SNIPPET_B / "000001.JPEG"
    image.unlink()
    with pytest.raises(AnnotationError, match=re.escape(f"{image}: image missing (annotated by")):
        imagenet_vid_split(vid_copy, "train")


def test_bad_split_lists_name_file_and_line(vid_copy):
    image_sets = vid_copy / "ImageSets" / "VID"
    (image_sets / "train_2.txt").write_text(f"{SNIPPET_A} 1\n{SNIPPET_B} x\n")
    with pytest.raises(AnnotationError, match=re.escape("train_2.txt:2: label 'x' is not an integer")):
        imagenet_vid_split(vid_copy, "train")
    (image_sets / "val.txt").write_text(f"{VAL_SNIPPET}/000000 1\n{VAL_SNIPPET}/000009 2\n")
    missing = vid_copy / "Annotations" / "VID" / "val" / VAL_SNIPPET / "000009.xml"
    with pytest.raises(AnnotationError, match=re.escape(f"{missing}: annotation file missing")):
        imagenet_vid_split(vid_copy, "val")
    (image_sets / "val.txt").write_text(f"{VAL_SNIPPET}/000000\n")
    with pytest.raises(AnnotationError, match=re.escape("val.txt:1: expected 2 space-separated fields")):
        imagenet_vid_split(vid_copy, "val")


def test_config_loads_train_and_val(vid, tmp_path):
    (train,), val = load_data_config("imagenet_vid", vid, f"data.train_sources.imagenet_vid.cache_dir={tmp_path}",
                                     "data.train_sources.imagenet_vid.parse_workers=0")
    assert (train.split, len(train.videos), val.split, val.num_frames) == ("train", 2, "val", 3)
