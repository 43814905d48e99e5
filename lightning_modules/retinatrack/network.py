"""RetinaTrack network: backbone + FPN, anchors, head, target assignment, losses and
post-processing (Lu et al., "RetinaTrack: Online Single Stage Joint Detection and
Tracking", CVPR 2020)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import batched_nms, box_iou, clip_boxes_to_image

from lightning_modules.common.losses import batch_hard_triplet_loss, focal_loss, huber_loss
from lightning_modules.common.test_time_augmentation import VIEWS, augmented_outputs
from lightning_modules.retinatrack.head import RetinaTrackHead

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class LossConfig:
    """RetinaTrack §3.4 defaults.

    Args:
        fg_iou: anchor/gt IoU for a detection positive (every gt also forces its best anchor).
        id_iou: stricter IoU for assigning a track identity to an anchor (no forcing).
        focal_alpha, focal_gamma: sigmoid focal loss parameters.
        huber_beta: Huber switch point on box offsets (not stated in the paper).
        triplet_margin: soft-margin m of the BatchHard loss.
        num_triplets: triplets sampled per batch.
        triplet_reduction: "sum" as Eq. 7 of the paper, or "mean".
        triplet_normalize: L2-normalise embeddings before the triplet loss (not in the
            paper, which uses raw embeddings; it keeps BatchHard mining from collapsing
            all embeddings to one point early in training, and matches the cosine
            similarity the track store uses).
        triplet_weight: 1.0 = the paper's unweighted sum; 0 = "w/o triplet loss" baseline.
    """

    fg_iou: float = 0.5
    id_iou: float = 0.7
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    huber_beta: float = 1.0 / 9.0
    triplet_margin: float = 0.1
    num_triplets: int = 64
    triplet_reduction: str = "sum"
    triplet_normalize: bool = False
    triplet_weight: float = 1.0


@dataclass
class InferenceConfig:
    """Post-processing: candidates above ``score_threshold`` (near zero, for mAP), the top
    ``candidates`` of them decoded, class-wise NMS, then ``detections_per_image`` kept.
    ``test_time_augment`` (``hflip``, ``flips`` or ``dihedral``; not in the paper) averages
    each anchor's scores and box over views of the image
    (:mod:`lightning_modules.common.test_time_augmentation`; 2, 4 or 8 times the compute)."""

    score_threshold: float = 0.05
    candidates: int = 1000
    nms_iou: float = 0.5
    detections_per_image: int = 100
    test_time_augment: str | None = None

    def __post_init__(self) -> None:
        if self.test_time_augment is not None and self.test_time_augment not in VIEWS:
            raise ValueError(f"inference.test_time_augment={self.test_time_augment!r}: "
                             f"expected null or one of {sorted(VIEWS)}")


class RetinaTrackNet(nn.Module):
    """Joint detector and per-anchor embedding network.

    Args:
        backbone: module mapping ``(B, 3, H, W)`` to pyramid levels, with ``out_channels``
            and ``strides`` attributes (see ``lightning_modules.common.backbones``).
        num_classes: foreground classes.
        head: keyword arguments of :class:`RetinaTrackHead` (m1, m2, m3, per_anchor, ...).
        anchor_scales: scale multipliers per location (K = scales x ratios; paper K=6).
        aspect_ratios: height/width ratios of the anchors.
        anchor_size_per_stride: anchor base size = this x level stride (RetinaNet: 4).
        loss: :class:`LossConfig` fields.
        inference: :class:`InferenceConfig` fields.
    """

    def __init__(
        self, backbone: nn.Module, num_classes: int, head: dict | None = None,
        anchor_scales: tuple[float, ...] = (1.0, 2**0.5),
        aspect_ratios: tuple[float, ...] = (0.5, 1.0, 2.0), anchor_size_per_stride: float = 4.0,
        loss: dict | None = None, inference: dict | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.num_classes = num_classes
        strides = backbone.strides
        sizes = tuple(tuple(anchor_size_per_stride * s * m for m in anchor_scales) for s in strides)
        self.anchor_generator = AnchorGenerator(sizes, (tuple(aspect_ratios),) * len(strides))
        self.num_anchors = len(anchor_scales) * len(aspect_ratios)
        self.head = RetinaTrackHead(
            backbone.out_channels, self.num_anchors, num_classes, len(strides), **(head or {})
        )
        self.loss_cfg = LossConfig(**(loss or {}))
        self.inference_cfg = InferenceConfig(**(inference or {}))
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self.detection_matcher = det_utils.Matcher(
            self.loss_cfg.fg_iou, self.loss_cfg.fg_iou, allow_low_quality_matches=True
        )
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def embedding_dim(self) -> int:
        return self.head.embedding_dim

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Args: images ``(B, 3, H, W)`` float in [0, 1], all of one size.

        Returns the head outputs (``cls_logits (B, A, N)``, ``box_regression (B, A, 4)``,
        ``embeddings (B, A, D)``) and ``anchors (A, 4)`` xyxy in input pixels.
        """
        x = (images - self.pixel_mean) / self.pixel_std
        features = list(self.backbone(x).values())
        out = self.head(features)
        one_image = ImageList(images[:1], [tuple(images.shape[-2:])])  # anchors depend on sizes only
        # anchors in fp32 whatever the autocast dtype of the features (bf16 would round
        # coordinates to 0.5 px at 128 px)
        out["anchors"] = self.anchor_generator(one_image, [f[:1].float() for f in features])[0]
        return out

    # ------------------------------------------------------------------ training
    def assign(self, anchors: torch.Tensor, target: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Anchor targets of one image.

        Returns ``matched (A,)`` gt index per anchor (-1 background, -2 ignored: overlaps a
        crowd region) and ``identity (A,)`` track id per anchor (-1 when the anchor's IoU
        with its gt is below ``id_iou`` or the gt has no identity).
        """
        num_anchors = len(anchors)
        identity = torch.full((num_anchors,), -1, dtype=torch.long, device=anchors.device)
        boxes, crowd = target["boxes"], target.get("iscrowd")
        keep = ~crowd if crowd is not None else torch.ones(len(boxes), dtype=torch.bool, device=boxes.device)
        if not keep.any():
            matched = torch.full((num_anchors,), -1, dtype=torch.long, device=anchors.device)
        else:
            iou = box_iou(boxes[keep], anchors)
            matched_kept = self.detection_matcher(iou)
            kept_index = torch.nonzero(keep).flatten()
            matched = torch.where(matched_kept >= 0, kept_index[matched_kept.clamp(min=0)], matched_kept)
            best_iou = iou.max(0).values
            gt_ids = target["track_ids"][kept_index[iou.argmax(0)]]
            has_id = (best_iou >= self.loss_cfg.id_iou) & (gt_ids >= 0)
            identity = torch.where(has_id, gt_ids, identity)
            matched[matched == det_utils.Matcher.BETWEEN_THRESHOLDS] = -1
        if crowd is not None and crowd.any():
            crowd_iou = box_iou(boxes[crowd], anchors).max(0).values
            matched[(matched == -1) & (crowd_iou >= self.loss_cfg.fg_iou)] = -2
        return matched, identity

    def losses(
        self, outputs: dict[str, torch.Tensor], targets: list[dict[str, torch.Tensor]],
        clip_ids: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Focal + Huber (+ BatchHard triplet) losses, summed in ``loss``.

        Args:
            targets: per image ``boxes (G, 4)`` xyxy, ``labels (G,)``, ``track_ids (G,)``,
                optional ``iscrowd (G,)``.
            clip_ids: ``(B,)`` clip of each image; triplets stay within a clip.
        """
        cfg = self.loss_cfg
        anchors = outputs["anchors"]
        cls_targets, valid, box_pred, box_target = [], [], [], []
        emb_rows, emb_ids, emb_groups = [], [], []
        for i, target in enumerate(targets):
            matched, identity = self.assign(anchors, target)
            fg = matched >= 0
            one_hot = torch.zeros_like(outputs["cls_logits"][i])
            one_hot[fg, target["labels"][matched[fg]]] = 1.0
            cls_targets.append(one_hot)
            valid.append(matched != -2)
            box_pred.append(outputs["box_regression"][i][fg].float())
            box_target.append(self.box_coder.encode_single(target["boxes"][matched[fg]], anchors[fg]))
            if "embeddings" in outputs:
                has_id = identity >= 0
                emb_rows.append(outputs["embeddings"][i][has_id])
                emb_ids.append(identity[has_id])
                emb_groups.append(torch.full_like(identity[has_id], int(clip_ids[i])))
        num_fg = sum(len(b) for b in box_pred)
        valid_mask = torch.cat(valid)
        logits = outputs["cls_logits"].float().reshape(-1, self.num_classes)[valid_mask]  # fp32 under autocast
        losses = {
            "cls": focal_loss(logits, torch.cat(cls_targets)[valid_mask], num_fg, cfg.focal_alpha, cfg.focal_gamma),
            "box": huber_loss(torch.cat(box_pred), torch.cat(box_target), num_fg, cfg.huber_beta),
        }
        total = losses["cls"] + losses["box"]
        if emb_rows and cfg.triplet_weight > 0:
            embeddings = torch.cat(emb_rows).float()
            if cfg.triplet_normalize:
                embeddings = F.normalize(embeddings, dim=1)
            losses["triplet"] = batch_hard_triplet_loss(
                embeddings, torch.cat(emb_ids), torch.cat(emb_groups),
                margin=cfg.triplet_margin, num_triplets=cfg.num_triplets,
                reduction=cfg.triplet_reduction,
            )
            total = total + cfg.triplet_weight * losses["triplet"]
        losses["loss"] = total
        return losses

    # ----------------------------------------------------------------- inference
    def inference_outputs(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """:meth:`forward`, averaged over the views of ``test_time_augment`` when it is set."""
        if self.inference_cfg.test_time_augment is not None:
            return augmented_outputs(self, images, self.box_coder, self.inference_cfg.test_time_augment)
        return self(images)

    @torch.no_grad()
    def detect(self, outputs: dict[str, torch.Tensor], image_size: tuple[int, int]) -> list[dict[str, torch.Tensor]]:
        """Decoded, NMS-ed detections per image: ``boxes (D, 4)``, ``scores (D,)``,
        ``labels (D,)``, ``anchor_indices (D,)`` and ``embeddings (D, E)`` (the embedding of
        the anchor that produced each detection)."""
        cfg = self.inference_cfg
        anchors = outputs["anchors"]
        results = []
        for i in range(len(outputs["cls_logits"])):
            scores = torch.sigmoid(outputs["cls_logits"][i].float()).flatten()
            candidates = torch.nonzero(scores > cfg.score_threshold).flatten()
            if len(candidates) > cfg.candidates:
                candidates = candidates[scores[candidates].topk(cfg.candidates).indices]
            anchor_idx = torch.div(candidates, self.num_classes, rounding_mode="floor")
            labels = candidates % self.num_classes
            boxes = self.box_coder.decode_single(
                outputs["box_regression"][i][anchor_idx].float(), anchors[anchor_idx]
            )
            boxes = clip_boxes_to_image(boxes, image_size)
            keep = batched_nms(boxes, scores[candidates], labels, cfg.nms_iou)[: cfg.detections_per_image]
            det = {
                "boxes": boxes[keep], "scores": scores[candidates][keep], "labels": labels[keep],
                "anchor_indices": anchor_idx[keep],
            }
            if "embeddings" in outputs:
                det["embeddings"] = outputs["embeddings"][i][anchor_idx[keep]].float()
            results.append(det)
        return results
