"""Test-time augmentation for dense anchor heads: flips (and transposes) of the image.

The network runs on each view of the image (a composition of horizontal flip ``h``,
vertical flip ``v`` and transpose ``t``). Each anchor's class probabilities and decoded
box are averaged over the views, each view read at the anchor whose box is this anchor's
image under that view's transform. Every anchor keeps its own embedding from the
untransformed image, so the detections are decoded, NMS-ed and tracked exactly as
without augmentation.
"""
from __future__ import annotations

from typing import Callable

import torch
from torchvision.models.detection._utils import BoxCoder

# Views of each choice, as the ops applied to the image in order ("" = the image itself).
VIEWS = {
    "hflip": ("", "h"),
    "flips": ("", "h", "v", "hv"),
    "dihedral": ("", "h", "v", "hv", "t", "th", "tv", "thv"),  # all 8 symmetries of a square
}


def transform_images(images: torch.Tensor, ops: str) -> torch.Tensor:
    """``images (B, C, H, W)`` under the ops in order."""
    for op in ops:
        if op == "h":
            images = images.flip(-1)
        elif op == "v":
            images = images.flip(-2)
        else:
            images = images.transpose(-1, -2)
    return images


def transform_boxes(boxes: torch.Tensor, ops: str, size: tuple[int, int]) -> torch.Tensor:
    """xyxy ``boxes (N, 4)`` of an ``(H, W)`` image, mapped as :func:`transform_images` maps
    the image; ``reversed(ops)`` undoes ``ops`` (each op is its own inverse)."""
    height, width = size
    for op in ops:
        x1, y1, x2, y2 = boxes.unbind(-1)
        if op == "h":
            boxes = torch.stack([width - x2, y1, width - x1, y2], -1)
        elif op == "v":
            boxes = torch.stack([x1, height - y2, x2, height - y1], -1)
        else:
            boxes = torch.stack([y1, x1, y2, x2], -1)
            height, width = width, height
    return boxes


def view_anchor_index(anchors: torch.Tensor, ops: str, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """For anchors ``(A, 4)`` xyxy of an ``(H, W)`` image: ``index (A,)`` of the anchor whose
    box is each anchor's image under ``ops``, and ``valid (A,)``, false where no anchor is
    (grids that start at x = 0 have no mirror partner for their first column); invalid
    rows point at the anchor itself."""
    own = torch.arange(len(anchors), device=anchors.device)
    if not ops:
        return own, torch.ones(len(anchors), dtype=torch.bool, device=anchors.device)
    # torchvision's anchor coordinates are multiples of 1/2 px: compare on a 1/64 px lattice
    moved = transform_boxes(anchors, ops, size)
    keys = torch.round(torch.cat([anchors, moved]).double() * 64).long()
    _, key_id = torch.unique(keys, dim=0, return_inverse=True)
    anchor_of_key = torch.full((int(key_id.max()) + 1,), -1, dtype=torch.long, device=anchors.device)
    anchor_of_key[key_id[: len(anchors)]] = own
    index = anchor_of_key[key_id[len(anchors):]]
    valid = index >= 0
    return torch.where(valid, index, own), valid


def augmented_outputs(
    forward: Callable[[torch.Tensor], dict[str, torch.Tensor]], images: torch.Tensor, box_coder: BoxCoder,
    views: str,
) -> dict[str, torch.Tensor]:
    """Head outputs of ``images (B, 3, H, W)`` averaged over the ``views`` (a key of
    :data:`VIEWS`).

    ``forward`` returns ``cls_logits (B, A, N)``, ``box_regression (B, A, 4)`` (encoded by
    ``box_coder`` against ``anchors (A, 4)``) and optionally ``embeddings (B, A, D)``.
    Returned in the same form: logits of the mean probability, the mean decoded box
    re-encoded against the anchor, and the untransformed image's embeddings. A view
    without a partner anchor does not vote for that anchor.
    """
    if views not in VIEWS:
        raise ValueError(f"test-time augmentation {views!r}: expected one of {sorted(VIEWS)}")
    size = tuple(images.shape[-2:])
    if "t" in "".join(VIEWS[views]) and size[0] != size[1]:
        raise ValueError(f"test-time augmentation {views!r} transposes the image: needs a square input, got {size}")
    plain = forward(images)
    anchors = plain["anchors"]
    prob_sum = torch.zeros_like(plain["cls_logits"], dtype=torch.float32)
    box_sum = torch.zeros(*prob_sum.shape[:2], 4, device=prob_sum.device)
    votes = torch.zeros(len(anchors), device=prob_sum.device)
    for ops in VIEWS[views]:
        out = forward(transform_images(images, ops)) if ops else plain
        partner, valid = view_anchor_index(anchors, ops, size)
        # back to the image's frame (views that transpose need a square input, so every
        # view has the image's size)
        boxes = torch.stack([
            transform_boxes(box_coder.decode_single(r.float(), anchors), ops[::-1], size)
            for r in out["box_regression"]
        ])
        weight = valid.float()
        prob_sum += torch.sigmoid(out["cls_logits"].float())[:, partner] * weight[None, :, None]
        box_sum += boxes[:, partner] * weight[None, :, None]
        votes += weight
    probs = prob_sum / votes[None, :, None]
    boxes = box_sum / votes[None, :, None]
    return {
        **plain,
        "cls_logits": torch.logit(probs, eps=torch.finfo(torch.float32).eps),
        "box_regression": torch.stack([box_coder.encode_single(b, anchors) for b in boxes]),
    }
