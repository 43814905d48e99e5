"""YouTube-VOS 2019 adapter on a tiny train / valid tree (meta.json, JPEGImages/, palette PNGs)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from dataset_layouts import HEIGHT, WIDTH, load_data_config, write_image
from datamodules.adapters.youtube_vos import youtube_vos_split
from datamodules.schema import AnnotationError

# The DAVIS / YouTube-VOS palette starts black, dark red, dark green, olive, ...
PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [0] * (256 * 3 - 12)
V0, V1, V2 = "003234408d", "0043f083b5", "0044fa5fba"


def ids_image(rectangles: dict[int, tuple[int, int, int, int]]) -> np.ndarray:
    """``(H, W)`` object ids: each id fills its ``x1, y1, x2, y2`` rectangle."""
    ids = np.zeros((HEIGHT, WIDTH), np.uint8)
    for oid, (x1, y1, x2, y2) in rectangles.items():
        ids[y1:y2, x1:x2] = oid
    return ids


def write_frame(folder: Path, video: str, frame: str, ids: np.ndarray | None) -> None:
    """``JPEGImages/<video>/<frame>.jpg`` and, when ``ids`` is given, its palette PNG."""
    write_image(folder / "JPEGImages" / video / f"{frame}.jpg")
    if ids is not None:
        png = folder / "Annotations" / video / f"{frame}.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(ids, mode="P")
        image.putpalette(PALETTE)
        image.save(png)


def write_meta(folder: Path, videos: dict[str, dict[str, tuple[str | None, list[str]]]]) -> None:
    """``meta.json``: video -> object id -> (category, frames)."""
    meta = {"videos": {v: {"objects": {k: ({"category": c} if c else {}) | {"frames": f}
                                       for k, (c, f) in objects.items()}}
                       for v, objects in videos.items()}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps(meta))


def write_dataset(root: Path) -> Path:
    train = root / "train"
    write_frame(train, V0, "00000", ids_image({1: (2, 3, 9, 11), 2: (20, 5, 30, 20)}))
    write_frame(train, V0, "00005", ids_image({1: (3, 3, 10, 11), 2: (20, 6, 30, 20), 3: (0, 0, 2, 2)}))
    write_frame(train, V0, "00010", ids_image({1: (4, 3, 11, 11)}))
    write_frame(train, V1, "00000", ids_image({1: (0, 0, 32, 24)}))
    write_frame(train, V1, "00005", ids_image({1: (1, 1, 31, 23)}))
    write_frame(train, V2, "00000", ids_image({1: (5, 5, 8, 8)}))
    write_meta(train, {
        V0: {"1": ("penguin", ["00000", "00005", "00010"]), "2": ("penguin", ["00000", "00005", "00010"])},
        V1: {"1": ("person", ["00000", "00005"])},
        V2: {"1": ("zebra", ["00000"])},
    })
    valid = root / "valid"
    write_frame(valid, V0, "00000", ids_image({1: (2, 2, 6, 6), 2: (10, 10, 12, 12)}))
    write_frame(valid, V0, "00005", None)  # valid: masks only where an object first appears
    write_meta(valid, {V0: {"1": ("penguin", ["00000", "00005"]), "2": ("axolotl", ["00000"])}})
    return root


@pytest.fixture(scope="module")
def ytvos(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("youtube_vos_2019"))


@pytest.fixture
def ytvos_copy(ytvos, tmp_path) -> Path:
    return Path(shutil.copytree(ytvos, tmp_path / "youtube_vos_2019"))


def test_masks_boxes_labels_and_track_ids(ytvos):
    index = youtube_vos_split(ytvos, "train")
    assert index.category_names == ["penguin", "person", "zebra"] and [c.id for c in index.categories] == [1, 2, 3]
    assert [v.name for v in index.videos] == [V0, V1, V2]
    frames = index.videos[0].frames
    assert [f.frame_index for f in frames] == [0, 5, 10]  # every 5th frame is annotated
    assert frames[1].image_path == ytvos / "train" / "JPEGImages" / V0 / "00005.jpg"
    assert (frames[0].width, frames[0].height) == (WIDTH, HEIGHT)
    assert frames[0].boxes.tolist() == [[2, 3, 9, 11], [20, 5, 30, 20]]  # around the mask pixels
    assert frames[0].labels.tolist() == [0, 0]
    expected = ids_image({1: (2, 3, 9, 11), 2: (20, 5, 30, 20)})
    for i, oid in enumerate((1, 2)):
        np.testing.assert_array_equal(mask_utils.decode(frames[0].masks[i]), expected == oid)
    assert isinstance(frames[0].masks[0]["counts"], str)
    penguin1, penguin2 = frames[0].track_ids.tolist()
    assert frames[1].track_ids.tolist() == [penguin1, penguin2] and frames[2].track_ids.tolist() == [penguin1]
    person = index.videos[1].frames[0].track_ids.tolist()
    assert person != [penguin1] and index.videos[1].frames[0].labels.tolist() == [1]  # object "1" again
    annotations = ytvos / "train" / "Annotations" / V0
    assert dict(index.skipped) == {"mask_id_not_in_meta": 1, "object_missing_from_mask": 1}
    assert index.skip_examples == {"mask_id_not_in_meta": [f"{annotations / '00005.png'}: object 3"],
                                   "object_missing_from_mask": [f"{annotations / '00010.png'}: object 2"]}


def test_holdout_partitions_the_train_videos(ytvos):
    assert [v.name for v in youtube_vos_split(ytvos, holdout="exclude", holdout_every=2).videos] == [V1]
    assert [v.name for v in youtube_vos_split(ytvos, holdout="only", holdout_every=2).videos] == [V0, V2]


def test_valid_uses_train_categories_and_counts_unseen_ones(ytvos):
    index = youtube_vos_split(ytvos, "valid")
    assert index.category_names == ["penguin", "person", "zebra"]
    (video,) = index.videos
    assert [f.frame_index for f in video.frames] == [0]  # only annotated frames
    assert video.frames[0].boxes.tolist() == [[2, 2, 6, 6]]
    assert dict(index.skipped) == {"category_not_in_train": 1}


def test_worker_processes_and_cache_give_the_same_index(ytvos, tmp_path):
    serial = youtube_vos_split(ytvos)
    parallel = youtube_vos_split(ytvos, parse_workers=2, cache_dir=tmp_path)
    cached = youtube_vos_split(ytvos, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.pkl"))) == 1
    expected = [(f.boxes.tolist(), f.masks) for _, f in serial.frames()]
    for index in (parallel, cached):
        assert [(f.boxes.tolist(), f.masks) for _, f in index.frames()] == expected
        assert index.skip_examples == serial.skip_examples


def test_bad_files_are_named(ytvos_copy):
    train = ytvos_copy / "train"
    meta = (train / "meta.json").read_text()
    (train / "meta.json").write_text(meta[:40])
    with pytest.raises(AnnotationError, match=re.escape(f"{train / 'meta.json'}: not valid JSON (line 1")):
        youtube_vos_split(ytvos_copy)
    (train / "meta.json").write_text(meta.replace('"category": "zebra", ', ""))
    message = f"{train / 'meta.json'}: video {V2} object 1 has no 'category'"
    with pytest.raises(AnnotationError, match=re.escape(message)):
        youtube_vos_split(ytvos_copy)
    (train / "meta.json").write_text(meta)
    png = train / "Annotations" / V1 / "00005.png"
    png.write_bytes(png.read_bytes()[:60])
    with pytest.raises(AnnotationError, match=re.escape(f"{png}: cannot decode the annotation PNG")):
        youtube_vos_split(ytvos_copy)
    Image.new("RGB", (WIDTH, HEIGHT)).save(png)
    with pytest.raises(AnnotationError, match=re.escape(f"{png}: mode RGB, expected a palette PNG")):
        youtube_vos_split(ytvos_copy)
    shutil.copy(train / "Annotations" / V1 / "00000.png", png)
    image = train / "JPEGImages" / V1 / "00005.jpg"
    image.unlink()
    with pytest.raises(AnnotationError, match=re.escape(f"{image}: image missing (annotated by {png})")):
        youtube_vos_split(ytvos_copy)
    shutil.rmtree(train / "Annotations" / V1)
    message = f"{train / 'Annotations' / V1}: no annotation PNGs for video {V1}"
    with pytest.raises(AnnotationError, match=re.escape(message)):
        youtube_vos_split(ytvos_copy)


def test_annotation_folder_missing_from_meta_is_counted(ytvos_copy):
    write_frame(ytvos_copy / "train", "ffffffffff", "00000", ids_image({1: (0, 0, 4, 4)}))
    index = youtube_vos_split(ytvos_copy)
    assert index.skipped["video_not_in_meta"] == 1 and len(index.videos) == 3


def test_config_holds_out_validation_videos(ytvos, tmp_path):
    (train,), val = load_data_config("youtube_vos", ytvos, "data.num_classes=3",  # the real train/meta.json: 65
                                     "data.train_sources.youtube_vos.holdout_every=2",
                                     f"data.train_sources.youtube_vos.cache_dir={tmp_path}",
                                     "data.train_sources.youtube_vos.parse_workers=0")
    assert [v.name for v in train.videos] == [V1] and [v.name for v in val.videos] == [V0, V2]
