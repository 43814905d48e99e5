"""Detection and metric-learning losses shared by the papers' models."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss


def focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, num_positives: torch.Tensor | float,
    alpha: float = 0.25, gamma: float = 2.0,
) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017) summed over anchors and classes.

    Args:
        logits, targets: ``(A, C)``; targets are one-hot (all zeros for background).
        num_positives: normaliser (number of foreground anchors, clamped to >= 1).
    """
    loss = sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="sum")
    return loss / torch.clamp(torch.as_tensor(num_positives, dtype=loss.dtype), min=1.0)


def huber_loss(
    pred: torch.Tensor, target: torch.Tensor, num_positives: torch.Tensor | float,
    beta: float = 1.0 / 9.0,
) -> torch.Tensor:
    """Huber (smooth L1) loss on box offsets ``(P, 4)``, summed, per foreground anchor.

    ``beta`` is the quadratic-to-linear switch point; RetinaTrack does not state it, so we
    use the Detectron RetinaNet value 1/9.
    """
    loss = F.smooth_l1_loss(pred, target, beta=beta, reduction="sum")
    return loss / torch.clamp(torch.as_tensor(num_positives, dtype=loss.dtype), min=1.0)


def pairwise_euclidean(x: torch.Tensor) -> torch.Tensor:
    """Non-squared Euclidean distances ``(A, A)`` between rows of ``x`` ``(A, D)``.

    The small epsilon keeps the gradient of sqrt finite at zero distance.
    """
    sq = (x.unsqueeze(1) - x.unsqueeze(0)).pow(2).sum(-1)
    return torch.sqrt(sq + 1e-12)


def batch_hard_triplet_loss(
    embeddings: torch.Tensor, identities: torch.Tensor, groups: torch.Tensor,
    margin: float = 0.1, num_triplets: int = 64, reduction: str = "sum",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """BatchHard triplet loss with a soft margin (Hermans et al. 2017), RetinaTrack Eq. 7.

    For each anchor j: ``softplus(m + max_{t_p = t_j} D_jp - min_{t_l != t_j} D_jl)`` with
    D the non-squared Euclidean distance. Positives and negatives are only taken from the
    anchor's own group (a clip), so triplets never mix clips. Anchors without a positive
    (another row of the same identity) or without a negative in their group are not
    used. Up to ``num_triplets`` anchors are sampled uniformly among the usable ones.

    Args:
        embeddings: ``(A, D)`` embeddings of the anchors matched to an identity.
        identities: ``(A,)`` track ids.
        groups: ``(A,)`` clip index of each row.
        reduction: ``"sum"`` (the paper's Eq. 7) or ``"mean"``.

    Returns:
        A scalar; zero (with a graph) when no triplet can be formed.
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    dist = pairwise_euclidean(embeddings)
    same_group = groups.unsqueeze(0) == groups.unsqueeze(1)
    same_id = identities.unsqueeze(0) == identities.unsqueeze(1)
    not_self = ~torch.eye(len(identities), dtype=torch.bool, device=embeddings.device)
    positive = same_group & same_id & not_self
    negative = same_group & ~same_id
    usable = positive.any(1) & negative.any(1)
    anchors = torch.nonzero(usable).flatten()
    if len(anchors) == 0:
        return embeddings.sum() * 0.0
    if len(anchors) > num_triplets:
        order = torch.randperm(len(anchors), generator=generator, device="cpu")
        anchors = anchors[order[:num_triplets].to(anchors.device)]
    d = dist[anchors]
    hardest_positive = d.masked_fill(~positive[anchors], float("-inf")).amax(1)
    hardest_negative = d.masked_fill(~negative[anchors], float("inf")).amin(1)
    losses = F.softplus(margin + hardest_positive - hardest_negative)
    return losses.sum() if reduction == "sum" else losses.mean()
