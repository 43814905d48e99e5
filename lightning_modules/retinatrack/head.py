"""Post-FPN prediction head of RetinaTrack and of its RetinaNet baselines.

RetinaTrack (Lu et al., CVPR 2020, §3.2-3.3) splits the post-FPN layers by anchor shape
early, so each of the K anchors at a location owns an instance feature ``F_{i,k}``:

    F_{i,k}   = Conv^(m1)(P_i; θ_k)                      task-shared, one tower per anchor k
    Y^cls_i,k = Conv(Conv^(m2)(F_{i,k}; θ_cls); φ_cls)   shared over k and levels
    Y^loc_i,k = Conv(Conv^(m2)(F_{i,k}; θ_loc); φ_loc)   shared over k and levels
    Y^emb_i,k = Conv1x1^(m3)(F_{i,k}; θ_emb)             shared over k and levels

Convolution weights are shared across FPN levels while every batch norm is per level
(the paper does not tie batch norm across levels).

With ``per_anchor=False`` the same class is vanilla RetinaNet: the towers are shared by
all anchors and the final convolutions emit K outputs per location; the embedding tower
then yields one vector per location, shared by its K colliding anchors (RetinaNet* of
the paper). ``share_task_weights=True`` makes classification and box regression share
their m2 convolutions (the "share task weights" column of the paper's Table 4).
"""
from __future__ import annotations

import math

import torch
from torch import nn


class LevelConvTower(nn.Module):
    """Conv layers shared across pyramid levels, each followed by a per-level BatchNorm
    and ReLU (except, optionally, the last layer, which then keeps a bias and no norm).

    Args:
        channels: ``[c_0, c_1, ..., c_n]``: layer j maps ``c_j -> c_{j+1}`` channels.
        num_levels: pyramid levels (one BatchNorm per level and layer).
        kernel_size: 3 for spatial towers, 1 for the embedding projection.
        groups: groups of every layer except the first (K for per-anchor towers, so
            each anchor's channels only see themselves after the first layer).
        activate_last: whether the last layer has BatchNorm + ReLU.
    """

    def __init__(
        self, channels: list[int], num_levels: int, kernel_size: int = 3, groups: int = 1,
        activate_last: bool = True,
    ) -> None:
        super().__init__()
        n = len(channels) - 1
        self.activated = [activate_last or j < n - 1 for j in range(n)]
        self.convs = nn.ModuleList(
            nn.Conv2d(
                channels[j], channels[j + 1], kernel_size, padding=kernel_size // 2,
                groups=1 if j == 0 else groups, bias=not self.activated[j],
            )
            for j in range(n)
        )
        self.norms = nn.ModuleList(
            nn.ModuleList(nn.BatchNorm2d(channels[j + 1]) for _ in range(num_levels))
            if self.activated[j] else nn.ModuleList()
            for j in range(n)
        )

    def __len__(self) -> int:
        return len(self.convs)

    def forward(self, x: torch.Tensor, level: int) -> torch.Tensor:
        for conv, norms, activated in zip(self.convs, self.norms, self.activated):
            x = conv(x)
            if activated:
                x = torch.relu(norms[level](x))
        return x


class RetinaTrackHead(nn.Module):
    """Classification, box and embedding predictions for every anchor of every level.

    Args:
        in_channels: FPN channels.
        num_anchors: K anchor shapes per location.
        num_classes: N foreground classes (sigmoid outputs, no background logit).
        num_levels: pyramid levels the head runs on.
        per_anchor: RetinaTrack split (True) or vanilla RetinaNet sharing (False).
        m1: task-shared convs (per anchor when ``per_anchor``).
        m2: task-specific convs before each final conv.
        m3: 1x1 embedding convs; 0 uses the instance feature itself as embedding.
        channels: width of the instance features and towers.
        embedding_dim: output channels of the embedding tower (256 in the paper).
        share_task_weights: classification and box regression share their m2 convs.
        with_embeddings: build the embedding tower at all (False = plain detector).
        prior_probability: initial foreground probability of the classifier (RetinaNet).
        tie_anchor_init: start the K per-anchor towers from identical weights (they still
            train independently). The paper does not say how θ_k are initialised;
            independent random towers make one object's embeddings differ by anchor shape
            from the first step, which we measured to push BatchHard training into the
            collapsed solution (all embeddings equal) on the synthetic world.
    """

    def __init__(
        self, in_channels: int, num_anchors: int, num_classes: int, num_levels: int,
        per_anchor: bool = True, m1: int = 3, m2: int = 1, m3: int = 2, channels: int = 256,
        embedding_dim: int = 256, share_task_weights: bool = False,
        with_embeddings: bool = True, prior_probability: float = 0.01,
        tie_anchor_init: bool = True,
    ) -> None:
        super().__init__()
        if per_anchor and m1 < 1:
            raise ValueError("RetinaTrack needs m1 >= 1 task-shared per-anchor convs")
        self.num_anchors, self.num_classes, self.per_anchor = num_anchors, num_classes, per_anchor
        k = num_anchors
        if per_anchor:
            shared_channels = [in_channels] + [k * channels] * m1
            self.shared = LevelConvTower(shared_channels, num_levels, groups=k)
        else:
            self.shared = LevelConvTower([in_channels] + [channels] * m1, num_levels)
        feature_channels = channels if m1 > 0 else in_channels
        outputs_per_location = 1 if per_anchor else k

        def tower() -> LevelConvTower:
            return LevelConvTower([feature_channels] + [channels] * m2, num_levels)

        self.cls_tower = tower()
        self.box_tower = self.cls_tower if share_task_weights else tower()
        tower_out = channels if m2 > 0 else feature_channels
        self.cls_final = nn.Conv2d(tower_out, outputs_per_location * num_classes, 3, padding=1)
        self.box_final = nn.Conv2d(tower_out, outputs_per_location * 4, 3, padding=1)
        self.embedding_dim = 0
        self.emb_tower = None
        if with_embeddings:
            self.emb_tower = LevelConvTower(
                [feature_channels] + [embedding_dim] * m3, num_levels, kernel_size=1,
                activate_last=False,
            )
            self.embedding_dim = embedding_dim if m3 > 0 else feature_channels
        self._init_weights(prior_probability, tie_anchor_init and per_anchor)

    def _init_weights(self, prior_probability: float, tie_anchor_towers: bool) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, std=0.01)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        nn.init.constant_(self.cls_final.bias, -math.log((1 - prior_probability) / prior_probability))
        if tie_anchor_towers:  # copy anchor 0's slice of every per-anchor conv to the others
            with torch.no_grad():
                for conv in self.shared.convs:
                    blocks = conv.weight.view(self.num_anchors, -1, *conv.weight.shape[1:])
                    blocks.copy_(blocks[:1].expand_as(blocks).clone())

    def _per_anchor_rows(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        """``(B*K, C, H, W)`` (per-anchor) or ``(B, K*C, H, W)`` -> ``(B, H*W*K, C)``,
        rows ordered location-major, anchor-minor (torchvision's anchor order)."""
        _, c, h, w = x.shape
        c = c if self.per_anchor else c // self.num_anchors
        x = x.reshape(batch, self.num_anchors, c, h, w).permute(0, 3, 4, 1, 2)
        return x.reshape(batch, h * w * self.num_anchors, c)

    def forward(self, features: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Args: pyramid levels ``[(B, C, H_l, W_l)]``.

        Returns ``cls_logits (B, A, N)``, ``box_regression (B, A, 4)`` and, with
        embeddings, ``embeddings (B, A, D)``; A = sum_l H_l * W_l * K.
        """
        cls_rows, box_rows, emb_rows = [], [], []
        k = self.num_anchors
        for level, p in enumerate(features):
            b, _, h, w = p.shape
            f = self.shared(p, level)
            if self.per_anchor:  # (B, K*C, H, W) -> (B*K, C, H, W): one sample per anchor
                f = f.reshape(b * k, -1, h, w)
            cls_rows.append(self._per_anchor_rows(self.cls_final(self.cls_tower(f, level)), b))
            box_rows.append(self._per_anchor_rows(self.box_final(self.box_tower(f, level)), b))
            if self.emb_tower is not None:
                e = self.emb_tower(f, level)
                if self.per_anchor:
                    emb_rows.append(self._per_anchor_rows(e, b))
                else:  # one embedding per location, shared by its K colliding anchors
                    e = e.permute(0, 2, 3, 1).reshape(b, h * w, 1, -1).expand(-1, -1, k, -1)
                    emb_rows.append(e.reshape(b, h * w * k, -1))
        out = {"cls_logits": torch.cat(cls_rows, 1), "box_regression": torch.cat(box_rows, 1)}
        if emb_rows:
            out["embeddings"] = torch.cat(emb_rows, 1)
        return out
