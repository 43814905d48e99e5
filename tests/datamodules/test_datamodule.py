"""Sampling, joint transforms, collate and bad input of the DataModule."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from datamodules.datamodule import TrackingDataModule
from datamodules.datasets import ClipDataset, FrameDataset, collate_clips, load_frame
from datamodules.schema import AnnotationError, Category, Frame, Video, VideoIndex
from datamodules.sources import synthetic_split
from datamodules.transforms import FrameTransform


def make_index(tmp_path, num_frames=6, size=(48, 64), same_image=False) -> VideoIndex:
    """One video whose frames hold a bright box at a known place."""
    h, w = size
    frames = []
    for i in range(num_frames):
        image = np.zeros((h, w, 3), np.uint8)
        x = 4 if same_image else 4 + 3 * i
        image[10:30, x:x + 16] = (250, 40, 40)
        path = tmp_path / f"{i:03d}.png"
        Image.fromarray(image).save(path)
        frames.append(Frame(path, w, h, i, 100 + i, boxes=[[x, 10, x + 16, 30]], labels=[0], track_ids=[5]))
    return VideoIndex([Video(1, "v", frames)], [Category(1, "thing")], source=str(tmp_path), split="train")


def test_clip_frames_come_from_one_video_stride_apart(tmp_path):
    index = make_index(tmp_path, num_frames=7)
    clips = ClipDataset(index, FrameTransform((48, 64)), stride=3, frames_per_clip=2)
    assert len(clips) == 7 - 3
    for i in range(len(clips)):
        a, b = clips[i]
        assert a["video"] == b["video"] == "v"
        assert b["frame_index"] - a["frame_index"] == 3


def test_short_videos_are_counted_not_silently_dropped(tmp_path):
    index = make_index(tmp_path, num_frames=3)
    clips = ClipDataset(index, FrameTransform((48, 64)), stride=8)
    assert len(clips) == 0 and clips.skipped["video shorter than one clip"] == 1


def test_clip_frames_get_the_same_random_augmentation(tmp_path):
    index = make_index(tmp_path, num_frames=2, same_image=True)
    transform = FrameTransform((32, 32), train=True, crop_scale=(0.3, 0.6))
    clips = ClipDataset(index, transform, stride=1)
    torch.manual_seed(0)
    for _ in range(5):
        a, b = clips[0]
        assert torch.equal(a["image"], b["image"])
        assert torch.equal(a["boxes"], b["boxes"])


def test_colour_jitter_is_drawn_once_per_clip_and_varies_between_clips(tmp_path):
    index = make_index(tmp_path, num_frames=2, same_image=True)
    transform = FrameTransform((48, 64), train=True, flip_prob=0.0, crop_scale=(1.0, 1.0),
                               color_jitter={"hue": 0.5, "saturation": 0.5})
    clips = ClipDataset(index, transform, stride=1)
    torch.manual_seed(0)
    object_colours = []
    for _ in range(4):
        a, b = clips[0]
        assert torch.equal(a["image"], b["image"])  # both frames of a clip: one draw
        x1, y1, x2, y2 = a["boxes"][0].round().int().tolist()
        object_colours.append(a["image"][:, (y1 + y2) // 2, (x1 + x2) // 2])
    assert len({tuple(c.mul(255).round().int().tolist()) for c in object_colours}) == 4
    background = a["image"][:, 2, 2]
    assert background.max() < 0.02  # hue and saturation leave the black background black


def test_transform_moves_boxes_with_the_pixels(tmp_path):
    index = make_index(tmp_path, num_frames=1)
    torch.manual_seed(3)
    transform = FrameTransform((40, 40), train=True, flip_prob=1.0, crop_scale=(0.9, 1.0))
    (sample,) = FrameDataset(index, transform)[0]
    (x1, y1, x2, y2) = sample["boxes"][0].round().int().tolist()
    red = sample["image"][0] - sample["image"][1]
    inside = red[y1 + 1:y2 - 1, x1 + 1:x2 - 1].mean()
    assert inside > 0.8  # the box still covers the red object after crop + flip + resize
    assert red.sum() < 1.2 * red[y1:y2, x1:x2].sum()


def test_zoom_out_shrinks_objects_and_their_boxes_alike(tmp_path):
    index = make_index(tmp_path, num_frames=1, size=(48, 64))
    plain = FrameDataset(index, FrameTransform((48, 64), train=True, flip_prob=0.0, crop_scale=(1.0, 1.0)))
    zoomed = FrameDataset(index, FrameTransform((48, 64), train=True, flip_prob=0.0, crop_scale=(1.0, 1.0),
                                                zoom_out={"side_range": [2.0, 2.0], "p": 1.0}))
    torch.manual_seed(0)  # crop_scale 1 still allows a rare one-pixel aspect crop
    (before,) = plain[0]
    torch.manual_seed(0)
    (after,) = zoomed[0]
    size_before = before["boxes"][0, 2:] - before["boxes"][0, :2]
    size_after = after["boxes"][0, 2:] - after["boxes"][0, :2]
    assert torch.allclose(size_after, size_before / 2, atol=0.5)
    red = after["image"][0] - after["image"][1]
    x1, y1, x2, y2 = after["boxes"][0].round().int().tolist()
    assert red[y1 + 1:y2 - 1, x1 + 1:x2 - 1].mean() > 0.8  # the box follows the object
    grey = after["image"].permute(1, 2, 0).reshape(-1, 3)
    assert ((grey - 128 / 255).abs().max(1).values < 0.02).float().mean() > 0.5  # 3/4 is canvas


def test_quarter_turn_and_vertical_flip_move_boxes_with_the_pixels(tmp_path):
    index = make_index(tmp_path, num_frames=1, size=(48, 48))
    transform = FrameTransform((48, 48), train=True, flip_prob=0.0, crop_scale=(1.0, 1.0),
                               vflip_prob=1.0, rot90_prob=1.0)
    torch.manual_seed(0)  # crop_scale 1 still allows a rare one-pixel aspect crop
    (sample,) = FrameDataset(index, transform)[0]
    x1, y1, x2, y2 = sample["boxes"][0].round().int().tolist()
    assert (x2 - x1, y2 - y1) == (20, 16)  # the 16 x 20 (w x h) object lies on its side
    red = sample["image"][0] - sample["image"][1]
    assert red[y1:y2, x1:x2].min() > 0.8 and red.sum() == pytest.approx(red[y1:y2, x1:x2].sum())


def test_quarter_turns_need_a_square_input():
    with pytest.raises(ValueError, match="square"):
        FrameTransform((48, 64), train=True, rot90_prob=0.5)


def test_blur_softens_edges_alike_in_both_frames_and_keeps_boxes(tmp_path):
    index = make_index(tmp_path, num_frames=2, same_image=True)
    options = dict(train=True, flip_prob=0.0, crop_scale=(1.0, 1.0))
    torch.manual_seed(0)  # the same crop (drawn first) for both
    sharp = ClipDataset(index, FrameTransform((48, 64), **options), stride=1)[0]
    torch.manual_seed(0)
    blurred = ClipDataset(index, FrameTransform(
        (48, 64), blur={"kernel_size": 5, "sigma": [1.5, 1.5], "p": 1.0}, **options), stride=1)[0]
    assert torch.equal(blurred[0]["image"], blurred[1]["image"])
    assert torch.equal(blurred[0]["boxes"], sharp[0]["boxes"])
    edge_row = 20  # the object spans columns 4..19; column 19 is its right edge
    assert sharp[0]["image"][0, edge_row, 19] > 0.95 and sharp[0]["image"][0, edge_row, 20] < 0.05
    assert 0.6 < blurred[0]["image"][0, edge_row, 19] < 0.9
    assert 0.1 < blurred[0]["image"][0, edge_row, 20] < 0.4


def test_eval_transform_resizes_boxes(tmp_path):
    index = make_index(tmp_path, num_frames=1, size=(48, 64))
    (sample,) = FrameDataset(index, FrameTransform((24, 32)))[0]
    assert sample["image"].shape == (3, 24, 32)
    assert torch.allclose(sample["boxes"][0], torch.tensor([2.0, 5.0, 10.0, 15.0]))


def test_collate_flattens_clips(tmp_path):
    index = make_index(tmp_path, num_frames=6)
    clips = ClipDataset(index, FrameTransform((48, 64)), stride=2)
    batch = collate_clips([clips[0], clips[1], clips[2]])
    assert batch["images"].shape == (6, 3, 48, 64)
    assert batch["clip_ids"].tolist() == [0, 0, 1, 1, 2, 2]
    assert [m["frame_index"] for m in batch["meta"]] == [0, 2, 1, 3, 2, 4]
    assert batch["targets"][0]["track_ids"].tolist() == [5]


def test_missing_image_names_the_file(tmp_path):
    index = make_index(tmp_path, num_frames=2)
    video, frame = next(index.frames())
    frame.image_path.unlink()
    with pytest.raises(AnnotationError, match=r"000\.png.*missing.*image id 100"):
        load_frame(video, frame)


def test_image_size_mismatch_names_the_file(tmp_path):
    index = make_index(tmp_path, num_frames=1)
    video, frame = next(index.frames())
    frame.width = 100
    with pytest.raises(AnnotationError, match=r"000\.png.*100x48"):
        load_frame(video, frame)


def test_num_classes_mismatch_is_reported(tmp_path):
    index = make_index(tmp_path)
    dm = TrackingDataModule({"a": lambda: index}, lambda: index, num_classes=3)
    with pytest.raises(ValueError, match="1 categories.*num_classes=3"):
        dm.setup("fit")


def test_corrupted_annotation_json_names_the_file(data_dir, tmp_path):
    import shutil

    root = tmp_path / "synthetic"
    shutil.copytree(data_dir / "synthetic", root)
    world = {"num_videos": {"train": 2, "val": 1}, "frames_per_video": 10}
    assert len(synthetic_split(str(root), "val", world).videos) == 1
    path = root / "annotations" / "val.json"
    path.write_text(path.read_text()[:500])
    with pytest.raises(AnnotationError, match=r"val\.json"):
        synthetic_split(str(root), "val", world)


def test_datamodule_batches_from_the_synthetic_world(data_dir):
    world = {"num_videos": {"train": 2, "val": 1}, "frames_per_video": 10}
    root = str(data_dir / "synthetic")
    dm = TrackingDataModule(
        {"synthetic": lambda: synthetic_split(root, "train", world)},
        lambda: synthetic_split(root, "val", world), num_classes=3, clip_stride=2, batch_size=3,
    )
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["images"].shape == (6, 3, 128, 128)
    assert batch["clip_ids"].tolist() == [0, 0, 1, 1, 2, 2]
    val = next(iter(dm.val_dataloader()))
    assert len(val["meta"]) == min(dm.eval_batch_size, dm.val_index.num_frames)
