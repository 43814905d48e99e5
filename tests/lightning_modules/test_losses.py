"""Losses on hand-computed cases."""
import math

import pytest
import torch

from lightning_modules.common.losses import (
    batch_hard_triplet_loss, focal_loss, huber_loss, pairwise_euclidean,
)


def test_focal_loss_matches_hand_computation():
    # One positive logit 0 (p = 0.5) and one negative logit 0 (p = 0.5), one foreground anchor.
    logits = torch.tensor([[0.0], [0.0]])
    targets = torch.tensor([[1.0], [0.0]])
    ce = math.log(2.0)
    expected = 0.25 * 0.5**2 * ce + 0.75 * 0.5**2 * ce  # alpha_t (1 - p_t)^gamma CE
    assert focal_loss(logits, targets, num_positives=1).item() == pytest.approx(expected, rel=1e-6)
    # Normalised by the number of positives.
    assert focal_loss(logits, targets, num_positives=2).item() == pytest.approx(expected / 2, rel=1e-6)


def test_focal_loss_downweights_easy_examples():
    easy = focal_loss(torch.tensor([[-6.0]]), torch.tensor([[0.0]]), 1)
    hard = focal_loss(torch.tensor([[2.0]]), torch.tensor([[0.0]]), 1)
    ce_easy = math.log1p(math.exp(-6.0))
    assert easy.item() < 0.01 * ce_easy  # (p)^2 with p = sigmoid(-6) ~ 0.0025
    assert hard.item() > 100 * easy.item()


def test_huber_loss_quadratic_and_linear_regions():
    beta = 1.0 / 9.0
    pred = torch.tensor([[0.05, 0.0, 1.0, 0.0]])
    target = torch.zeros(1, 4)
    expected = 0.5 * 0.05**2 / beta + (1.0 - 0.5 * beta)
    assert huber_loss(pred, target, 1, beta).item() == pytest.approx(expected, rel=1e-6)
    assert huber_loss(torch.zeros(0, 4), torch.zeros(0, 4), 0).item() == 0.0


def test_pairwise_euclidean_is_not_squared():
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    d = pairwise_euclidean(x)
    assert d[0, 1].item() == pytest.approx(5.0, rel=1e-6)
    assert d[0, 0].item() == pytest.approx(0.0, abs=1e-5)


def test_batch_hard_triplet_hand_computed():
    # Clip 0: ids 1, 1, 2 on a line at 0, 1, 3.
    emb = torch.tensor([[0.0], [1.0], [3.0]])
    ids = torch.tensor([1, 1, 2])
    groups = torch.zeros(3, dtype=torch.long)
    m = 0.1
    # anchor 0: pos 1, neg 3 -> softplus(m + 1 - 3); anchor 1: pos 1, neg 2 -> softplus(m + 1 - 2)
    # anchor 2 has no positive -> unused.
    sp = torch.nn.functional.softplus
    expected = sp(torch.tensor(m - 2.0)) + sp(torch.tensor(m - 1.0))
    loss = batch_hard_triplet_loss(emb, ids, groups, margin=m)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    mean = batch_hard_triplet_loss(emb, ids, groups, margin=m, reduction="mean")
    assert mean.item() == pytest.approx(expected.item() / 2, rel=1e-5)


def test_batch_hard_uses_hardest_pairs():
    emb = torch.tensor([[0.0], [0.5], [2.0], [4.0], [1.0]])
    ids = torch.tensor([1, 1, 1, 2, 2])
    groups = torch.zeros(5, dtype=torch.long)
    sp = torch.nn.functional.softplus
    loss = batch_hard_triplet_loss(emb, ids, groups, margin=0.0)
    # anchor 0: hardest pos 2.0, hardest neg 1.0; anchor 1: 1.5, 0.5; anchor 2: 2.0, 1.0;
    # anchor 3: pos 3.0, neg 2.0; anchor 4: pos 3.0, neg 0.5.
    expected = sum(sp(torch.tensor(v)) for v in (1.0, 1.0, 1.0, 1.0, 2.5))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_triplets_never_cross_clips():
    # Same ids in two clips: across clips they would be positives / negatives; within each
    # clip there is no negative, so no triplet may be formed at all.
    emb = torch.tensor([[0.0], [1.0], [5.0], [6.0]])
    ids = torch.tensor([1, 1, 2, 2])
    groups = torch.tensor([0, 0, 1, 1])
    assert batch_hard_triplet_loss(emb, ids, groups).item() == 0.0
    # Put both ids in one clip and triplets appear.
    assert batch_hard_triplet_loss(emb, ids, torch.zeros(4, dtype=torch.long)).item() > 0.0


def test_triplet_sampling_caps_the_number_of_triplets():
    torch.manual_seed(0)
    emb = torch.zeros(200, 2)  # every D = 0 -> each triplet costs softplus(m)
    ids = torch.arange(200) % 10
    groups = torch.zeros(200, dtype=torch.long)
    loss = batch_hard_triplet_loss(emb, ids, groups, margin=0.1, num_triplets=64)
    assert loss.item() == pytest.approx(64 * math.log1p(math.exp(0.1)), rel=1e-4)


def test_triplet_loss_gradient_pulls_positives_together():
    emb = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.5, 0.2]], requires_grad=True)
    ids = torch.tensor([1, 1, 2])
    loss = batch_hard_triplet_loss(emb, ids, torch.zeros(3, dtype=torch.long), margin=1.0)
    loss.backward()
    # Anchor 0's gradient step moves it toward its positive (+x direction).
    assert emb.grad[0, 0].item() < 0
