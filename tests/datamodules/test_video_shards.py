"""Whole videos per rank for distributed tracking."""
from __future__ import annotations

import pytest

from datamodules.video_shards import VideoShardBatchSampler, assign_videos

# dataset items in video order: a 5 frames, b 2, c 4, d 3
ITEM_VIDEOS = ["a"] * 5 + ["b"] * 2 + ["c"] * 4 + ["d"] * 3


def test_assignment_balances_frames_longest_first():
    assert assign_videos({"a": 5, "b": 2, "c": 4, "d": 3}, 2) == [["a", "b"], ["c", "d"]]
    assert assign_videos({"a": 5}, 3) == [["a"], [], []]


@pytest.mark.parametrize("num_replicas", [1, 2, 3, 5])
def test_ranks_cover_every_item_once_with_whole_videos_in_order(num_replicas):
    samplers = [VideoShardBatchSampler(ITEM_VIDEOS, 2, num_replicas, rank) for rank in range(num_replicas)]
    per_rank = [[i for batch in sampler for i in batch] for sampler in samplers]
    assert sorted(i for items in per_rank for i in items) == list(range(len(ITEM_VIDEOS)))
    for items in per_rank:
        assert items == sorted(items)  # frames in order
        assert all(ITEM_VIDEOS.count(ITEM_VIDEOS[i]) == sum(ITEM_VIDEOS[j] == ITEM_VIDEOS[i] for j in items)
                   for i in items)  # a video is whole on the rank that has it
    for sampler in samplers:
        assert len(sampler) == len(list(sampler))
        assert all(len({ITEM_VIDEOS[i] for i in batch}) == 1 and len(batch) <= 2 for batch in sampler)


def test_batches_do_not_depend_on_the_number_of_ranks():
    single = list(VideoShardBatchSampler(ITEM_VIDEOS, 3))
    split = [b for rank in range(2) for b in VideoShardBatchSampler(ITEM_VIDEOS, 3, 2, rank)]
    assert sorted(single) == sorted(split)


def test_rank_outside_the_world_is_an_error():
    with pytest.raises(ValueError, match="rank 2"):
        VideoShardBatchSampler(ITEM_VIDEOS, 2, 2, 2)
