"""Test-time horizontal flip for dense anchor heads.

The network runs on the image and on its mirror; each anchor's class probabilities and
decoded box are averaged with those the mirror image gave at the mirrored anchor (the
anchor whose box is this one's reflection), so every anchor keeps its own embedding and
the detections are decoded, NMS-ed and tracked exactly as without the flip.
"""
from __future__ import annotations

from typing import Callable

import torch
from torchvision.models.detection._utils import BoxCoder


def mirrored_anchor_index(anchors: torch.Tensor, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For anchors ``(A, 4)`` xyxy in an image ``width`` pixels wide: ``index (A,)`` of the
    anchor whose box is each anchor's horizontal reflection, and ``valid (A,)``, false
    where no anchor is (e.g. grids that start at x = 0 have no partner for the first
    column); invalid rows point at the anchor itself."""
    mirrored = torch.stack([width - anchors[:, 2], anchors[:, 1], width - anchors[:, 0], anchors[:, 3]], 1)
    # anchor coordinates are multiples of 1/2 px from torchvision's generator: compare
    # them on a 1/64 px lattice
    def keys(boxes: torch.Tensor) -> list[tuple[int, ...]]:
        return [tuple(row) for row in torch.round(boxes.double() * 64).long().tolist()]

    position = {key: i for i, key in enumerate(keys(anchors))}
    found = [position.get(key, -1) for key in keys(mirrored)]
    index = torch.tensor(found, dtype=torch.long, device=anchors.device)
    valid = index >= 0
    own = torch.arange(len(anchors), device=anchors.device)
    return torch.where(valid, index, own), valid


def flip_averaged_outputs(
    forward: Callable[[torch.Tensor], dict[str, torch.Tensor]], images: torch.Tensor, box_coder: BoxCoder,
) -> dict[str, torch.Tensor]:
    """Head outputs of ``images (B, 3, H, W)`` averaged with those of their mirror.

    ``forward`` returns ``cls_logits (B, A, N)``, ``box_regression (B, A, 4)`` (encoded by
    ``box_coder`` against ``anchors (A, 4)``) and optionally ``embeddings (B, A, D)``.
    Returned in the same form: logits of the mean probability, the mean decoded box
    re-encoded against the anchor, and the unflipped pass's embeddings. Anchors without a
    mirrored partner keep the unflipped outputs.
    """
    plain, flipped = forward(images), forward(images.flip(-1))
    anchors = plain["anchors"]
    width = images.shape[-1]
    partner, valid = mirrored_anchor_index(anchors, width)

    probs = torch.sigmoid(plain["cls_logits"].float())
    probs_mirror = torch.sigmoid(flipped["cls_logits"].float())[:, partner]
    probs = torch.where(valid[None, :, None], (probs + probs_mirror) / 2, probs)

    boxes = torch.stack([box_coder.decode_single(r.float(), anchors) for r in plain["box_regression"]])
    boxes_in_mirror = torch.stack([box_coder.decode_single(r.float(), anchors) for r in flipped["box_regression"]])
    x1, y1, x2, y2 = boxes_in_mirror[:, partner].unbind(-1)
    boxes_mirror = torch.stack([width - x2, y1, width - x1, y2], -1)
    boxes = torch.where(valid[None, :, None], (boxes + boxes_mirror) / 2, boxes)

    eps = torch.finfo(torch.float32).eps
    return {
        **plain,
        "cls_logits": torch.logit(probs, eps=eps),
        "box_regression": torch.stack([box_coder.encode_single(b, anchors) for b in boxes]),
    }
