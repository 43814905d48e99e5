"""Sampling modes (clip, pair, identity), weighted source mixtures and DDP sharding."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from PIL import Image
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler

from datamodules.datamodule import TrackingDataModule
from datamodules.identity_dataset import CropTransform, IdentityDataset
from datamodules.pair_dataset import PairDataset, collate_pairs
from datamodules.samplers import IdentityBatches, MixtureBatchSampler, ShuffledBatches
from datamodules.schema import Category, Frame, Video, VideoIndex
from datamodules.sources import synthetic_split
from datamodules.transforms import FrameTransform

TINY_WORLD = {"num_videos": {"train": 2, "val": 1}, "frames_per_video": 10}


def make_index(tmp_path, videos: dict[str, dict[int, list[int]]], size: int = 32) -> VideoIndex:
    """Videos of blank frames; ``videos[name][track_id]`` lists the frames a track is in
    (frame index = position), each track with its own box."""
    image = tmp_path / "blank.png"
    Image.new("RGB", (size, size)).save(image)
    result = []
    for v, (name, tracks) in enumerate(videos.items()):
        frames = []
        for i in range(max(max(fs) for fs in tracks.values()) + 1):
            tids = [t for t, fs in tracks.items() if i in fs]
            boxes = [[t % 8, t % 8, t % 8 + 16, t % 8 + 20] for t in tids]
            frames.append(Frame(image, size, size, i, 1000 * v + i, boxes=boxes, labels=[0] * len(tids),
                                track_ids=tids))
        result.append(Video(v, name, frames))
    return VideoIndex(result, [Category(1, "thing")], source="test", split="train")


def tiny_datamodule(data_dir, **kwargs) -> TrackingDataModule:
    root = str(data_dir / "synthetic")
    dm = TrackingDataModule(
        kwargs.pop("train_sources", {"synthetic": lambda: synthetic_split(root, "train", TINY_WORLD)}),
        lambda: synthetic_split(root, "val", TINY_WORLD), num_classes=3, **kwargs,
    )
    dm.setup("fit")
    return dm


def shard(sampler: MixtureBatchSampler, num_replicas: int, rank: int, epoch: int = 0) -> MixtureBatchSampler:
    """The same batch sampler for another rank (what Lightning's injection does)."""
    dist = DistributedSampler(sampler.sampler.dataset, num_replicas=num_replicas, rank=rank, seed=sampler.sampler.seed)
    dist.set_epoch(epoch)
    return MixtureBatchSampler(dist, sampler.plans, sampler.weights.tolist(), sampler.offsets, sampler.num_batches)


# ----------------------------------------------------------------------- clip / pair
def test_datamodule_clips_come_from_one_video_stride_apart(data_dir):
    dm = tiny_datamodule(data_dir, sampling="clip", clip_stride=3, frames_per_clip=3, batch_size=2)
    batch = next(iter(dm.train_dataloader()))
    assert batch["sampling"] == "clip" and batch["images"].shape[0] == 6
    for clip in range(2):
        meta = [m for m, c in zip(batch["meta"], batch["clip_ids"]) if c == clip]
        assert len({m["video"] for m in meta}) == 1
        assert [b["frame_index"] - a["frame_index"] for a, b in zip(meta, meta[1:])] == [3, 3]


def test_pairs_come_from_one_video_within_the_gap(tmp_path):
    index = make_index(tmp_path, {"a": {1: list(range(10)), 2: [0, 5]}, "b": {3: [0, 9]}, "c": {4: [3]}})
    pairs = PairDataset(index, FrameTransform((32, 32)), max_gap=2)
    assert len(pairs) == 1  # track 2 and video b: no partner within 2 frames; c: one frame
    assert pairs.skipped["video without a track seen in two frames within max_gap"] == 2
    torch.manual_seed(0)
    gaps = set()
    for _ in range(60):
        pair = pairs[0]
        t, s = pair["template"], pair["search"]
        assert t["video"] == s["video"] == "a" and pair["track_id"] == 1
        gaps.add(s["frame_index"] - t["frame_index"])
        assert t["track_ids"][pair["template_target"]] == s["track_ids"][pair["search_target"]] == 1
    assert gaps == {-2, -1, 1, 2}


def test_pairs_without_a_gap_limit_span_the_video(tmp_path):
    index = make_index(tmp_path, {"b": {3: [0, 9]}, "c": {4: [3]}})
    pairs = PairDataset(index, FrameTransform((32, 32)), max_gap=None)
    assert len(pairs) == 1 and sum(pairs.skipped.values()) == 1
    batch = collate_pairs([pairs[0], pairs[0], pairs[0]])
    assert batch["template"]["images"].shape == batch["search"]["images"].shape == (3, 3, 32, 32)
    assert batch["track_ids"].tolist() == [3, 3, 3] and batch["search_target"].tolist() == [0, 0, 0]
    for t, s in zip(batch["template"]["meta"], batch["search"]["meta"]):
        assert {t["frame_index"], s["frame_index"]} == {0, 9}


def test_datamodule_pair_batches(data_dir):
    dm = tiny_datamodule(data_dir, sampling="pair", batch_size=2, image_size=(64, 64))
    batch = next(iter(dm.train_dataloader()))
    assert batch["sampling"] == "pair" and batch["search"]["images"].shape == (2, 3, 64, 64)
    for b in range(2):
        t, s = batch["template"]["meta"][b], batch["search"]["meta"][b]
        assert t["video"] == s["video"] and t["frame_index"] != s["frame_index"]
        target = batch["search_target"][b]
        assert target < 0 or batch["search"]["targets"][b]["track_ids"][target] == batch["track_ids"][b]


# --------------------------------------------------------------------------- identity
def test_identity_batches_hold_p_distinct_identities_times_k(tmp_path):
    index = make_index(tmp_path, {"a": {1: list(range(6)), 2: [0, 1], 3: [2, 3, 4, 5]}, "b": {4: [0, 1, 2]}})
    crops = IdentityDataset(index, CropTransform((16, 8)))
    assert crops.identities == [1, 2, 3, 4] and [len(i) for i in crops.items_per_identity] == [6, 2, 4, 3]
    plan = IdentityBatches(crops.items_per_identity, identities_per_batch=2, instances_per_identity=3)
    assert plan.num_batches == 2
    one_pass = plan.draw(2, torch.Generator().manual_seed(0))
    assert sorted(crops.items[i][0] for batch in one_pass for i in batch[::3]) == [0, 1, 2, 3]
    for batch in plan.draw(40, torch.Generator().manual_seed(1)):
        labels = [crops.items[i][0] for i in batch]
        groups = [labels[k:k + 3] for k in range(0, 6, 3)]
        assert all(len(set(g)) == 1 for g in groups) and groups[0][0] != groups[1][0]
        for k in range(0, 6, 3):
            if len(crops.items_per_identity[labels[k]]) >= 3:  # enough crops: no repeats
                assert len(set(batch[k:k + 3])) == 3
    short = [b for b in plan.draw(40, torch.Generator().manual_seed(2)) if crops.items[b[0]][0] == 1]
    assert short and all(len(set(b[:3])) < 3 for b in short)  # 2 crops for K=3: drawn with replacement
    sample = crops[0]
    assert sample["crop"].shape == (3, 16, 8) and sample["track_id"] == 1 and sample["label"] == 0


def test_datamodule_identity_batches(data_dir):
    dm = tiny_datamodule(data_dir, sampling="identity", identities_per_batch=3, instances_per_identity=2,
                         crop_size=(32, 16))
    loader = dm.train_dataloader()
    dataset = loader.dataset.datasets[0]
    assert len(loader) == dataset.num_identities // 3  # one pass over the identities
    batch = next(iter(loader))
    assert batch["crops"].shape == (6, 3, 32, 16) and batch["sampling"] == "identity"
    labels = batch["labels"].tolist()
    assert len(set(labels)) == 3 and all(labels.count(x) == 2 for x in labels)
    assert [dataset.identities[x] for x in labels] == batch["track_ids"].tolist()


# ---------------------------------------------------------------------------- mixture
def test_mixture_draws_sources_in_proportion_to_weights():
    plans = [ShuffledBatches(100, 4), ShuffledBatches(40, 4), ShuffledBatches(400, 4)]
    sampler = MixtureBatchSampler(DistributedSampler(range(540), num_replicas=1, rank=0, seed=7), plans,
                                  [1, 2, 5], [0, 100, 140], num_batches=8000)
    sources, batches = sampler.epoch_plan()
    for source, weight in enumerate([1, 2, 5]):
        assert sources.count(source) / len(sources) == pytest.approx(weight / 8, abs=0.015)
    bounds = [(0, 100), (100, 140), (140, 540)]
    assert all(bounds[s][0] <= min(b) and max(b) < bounds[s][1] for s, b in zip(sources, batches))


def test_mixture_config_from_hydra_mixes_modes_per_batch(data_dir):
    split = {"_target_": "datamodules.sources.synthetic_split", "_partial_": True,
             "root": str(data_dir / "synthetic"), "world": TINY_WORLD}
    cfg = OmegaConf.create({
        "_target_": "datamodules.datamodule.TrackingDataModule", "num_classes": 3, "sampling": "clip",
        "train_sources": {
            "frames": {"source": {**split, "split": "train"}, "sampling": "image", "weight": 1},
            "crops": {"source": {**split, "split": "train"}, "sampling": "identity", "weight": 3},
            "clips": {**split, "split": "train"},
        },
        "val_source": {**split, "split": "val"}, "clip_stride": 2, "batch_size": 2,
        "identities_per_batch": 2, "instances_per_identity": 2, "crop_size": [16, 8], "image_size": [32, 32],
    })
    dm = instantiate(cfg)
    assert [(s.name, s.sampling, s.weight) for s in dm.sources] == [
        ("frames", "image", 1.0), ("crops", "identity", 3.0), ("clips", "clip", 1.0)]
    dm.setup("fit")
    loader = dm.train_dataloader()
    frames, crops, clips = loader.dataset.datasets
    assert len(loader) == len(frames) // 2 + crops.num_identities // 2 + len(clips) // 2
    seen = {}
    for batch in loader:
        key = "crops" if batch["sampling"] == "identity" else "images"
        seen.setdefault(batch["source"], (batch["sampling"], batch[key].shape[0]))
        if len(seen) == 3:
            break
    assert seen == {"frames": ("image", 2), "crops": ("identity", 4), "clips": ("clip", 4)}


def test_epoch_length_can_be_set(data_dir):
    dm = tiny_datamodule(data_dir, sampling="image", batch_size=2, batches_per_epoch=7)
    assert len(dm.train_dataloader()) == 7


def test_source_that_cannot_fill_a_batch_is_named(data_dir):
    dm = tiny_datamodule(data_dir, sampling="identity", identities_per_batch=1000)
    with pytest.raises(ValueError, match="'synthetic' \\(identity sampling\\).*identities cannot fill"):
        dm.train_dataloader()


# -------------------------------------------------------------------------------- DDP
def test_two_ranks_split_each_epoch_without_overlap():
    base = MixtureBatchSampler(DistributedSampler(range(48), num_replicas=1, rank=0, seed=3),
                               [ShuffledBatches(48, 4)], [1.0], [0])
    orders = []
    for epoch in (0, 1):
        ranks = [list(shard(base, 2, rank, epoch)) for rank in (0, 1)]
        items = [[i for batch in r for i in batch] for r in ranks]
        assert len(ranks[0]) == len(ranks[1]) == 6
        assert not set(items[0]) & set(items[1]) and set(items[0]) | set(items[1]) == set(range(48))
        orders.append(items[0])
    assert orders[0] != orders[1]  # set_epoch reshuffles


def test_ranks_shard_a_mixture_plan_and_drop_the_remainder():
    plans = [ShuffledBatches(30, 3), IdentityBatches([[i, i + 100] for i in range(20)], 4, 2)]
    base = MixtureBatchSampler(DistributedSampler(range(230), num_replicas=1, rank=0), plans, [1, 1], [0, 30])
    assert base.num_batches == 10 + 5
    _, plan = base.epoch_plan()
    ranks = [list(shard(base, 2, rank)) for rank in (0, 1)]
    assert ranks[0] == plan[0:14:2] and ranks[1] == plan[1:14:2]  # the 15th batch is dropped


def test_lightning_injected_distributed_sampler_shards_the_batches(data_dir):
    """What ``use_distributed_sampler`` does under ``trainer=ddp``: Lightning re-creates the
    batch sampler with a DistributedSampler per rank, and calls its set_epoch."""
    from lightning.fabric.utilities.data import _replace_dunder_methods, _set_sampler_epoch
    from lightning.pytorch.trainer.states import RunningStage
    from lightning.pytorch.utilities.data import _update_dataloader

    dm = tiny_datamodule(data_dir, sampling="image", batch_size=2)
    with _replace_dunder_methods(DataLoader, "dataset"), _replace_dunder_methods(BatchSampler):
        loader = dm.train_dataloader()
    ranks = []
    for rank in (0, 1):
        dist = DistributedSampler(loader.dataset, num_replicas=2, rank=rank, shuffle=True, seed=0)
        injected = _update_dataloader(loader, dist, mode=RunningStage.TRAINING)
        _set_sampler_epoch(injected, 4)
        ranks.append([i for batch in injected.batch_sampler for i in batch])
    assert len(ranks[0]) == len(ranks[1]) == (len(loader) // 2) * dm.batch_size
    assert not set(ranks[0]) & set(ranks[1])
    assert set(ranks[0]) | set(ranks[1]) == set(range(len(loader.dataset)))


def test_train_dataloader_shards_by_the_trainer_rank(data_dir):
    dm = tiny_datamodule(data_dir, sampling="image", batch_size=2)
    items = []
    for rank in (0, 1):
        dm.trainer = SimpleNamespace(world_size=2, global_rank=rank, overfit_batches=0)
        items.append({i for batch in dm.train_dataloader().batch_sampler for i in batch})
    assert not items[0] & items[1] and len(items[0] | items[1]) == 20
