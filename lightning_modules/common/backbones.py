"""Feature-pyramid backbones built from torchvision parts.

Every backbone maps images ``(B, 3, H, W)`` to an ordered dict of pyramid levels
(P3..P7 by default; strides 8..128) with ``out_channels`` channels each, and exposes
``out_channels`` and ``strides``.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torchvision.models import resnet
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.ops.feature_pyramid_network import LastLevelP6P7


def _pyramid_strides(num_fpn_inputs: int, with_p6p7: bool) -> tuple[int, ...]:
    strides = [8 * 2**i for i in range(num_fpn_inputs)]
    if with_p6p7:
        strides += [strides[-1] * 2, strides[-1] * 4]
    return tuple(strides)


class ResNetFPN(nn.Module):
    """torchvision ResNet + FPN, P3-P5 from C3-C5 and P6/P7 from P5 (RetinaNet layout).

    Args:
        depth: 18, 34, 50 or 101. ResNet-50 is the papers' default.
        out_channels: FPN width (256 in the papers).
        with_p6p7: add the two extra RetinaNet levels.

    All layers train, with ordinary batch norm (no weights are downloaded; initialise from
    a checkpoint to fine-tune).
    """

    def __init__(self, depth: int = 50, out_channels: int = 256, with_p6p7: bool = True) -> None:
        super().__init__()
        body = getattr(resnet, f"resnet{depth}")(weights=None)
        c5 = body.fc.in_features  # 512 (BasicBlock) or 2048 (Bottleneck)
        self.body = BackboneWithFPN(
            body,
            return_layers={"layer2": "0", "layer3": "1", "layer4": "2"},
            in_channels_list=[c5 // 4, c5 // 2, c5],
            out_channels=out_channels,
            extra_blocks=LastLevelP6P7(out_channels, out_channels) if with_p6p7 else None,
        )
        self.out_channels = out_channels
        self.strides = _pyramid_strides(3, with_p6p7)

    def forward(self, images: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        return self.body(images)


class SmallResNetFPN(nn.Module):
    """A narrow ResNet (torchvision BasicBlocks) + FPN sized for CPU training.

    Stem (stride 2) then four stages of ``blocks_per_stage`` BasicBlocks at strides
    4, 8, 16, 32 with ``widths`` channels; FPN on the last three, plus P6/P7.

    Args:
        widths: channels of the four stages.
        blocks_per_stage: BasicBlocks per stage.
        out_channels: FPN width.
        with_p6p7: add the two extra RetinaNet levels.
    """

    def __init__(
        self, widths: tuple[int, int, int, int] = (32, 64, 96, 128), blocks_per_stage: int = 1,
        out_channels: int = 64, with_p6p7: bool = True,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        body = nn.Sequential(
            OrderedDict(
                stem=nn.Sequential(
                    nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False),
                    nn.BatchNorm2d(widths[0]),
                    nn.ReLU(inplace=True),
                ),
                layer1=self._stage(widths[0], widths[0], blocks_per_stage, stride=2),
                layer2=self._stage(widths[0], widths[1], blocks_per_stage, stride=2),
                layer3=self._stage(widths[1], widths[2], blocks_per_stage, stride=2),
                layer4=self._stage(widths[2], widths[3], blocks_per_stage, stride=2),
            )
        )
        self.body = BackboneWithFPN(
            body,
            return_layers={"layer2": "0", "layer3": "1", "layer4": "2"},
            in_channels_list=list(widths[1:]),
            out_channels=out_channels,
            extra_blocks=LastLevelP6P7(out_channels, out_channels) if with_p6p7 else None,
        )
        self.out_channels = out_channels
        self.strides = _pyramid_strides(3, with_p6p7)

    @staticmethod
    def _stage(in_ch: int, out_ch: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
        )
        layers = [resnet.BasicBlock(in_ch, out_ch, stride=stride, downsample=downsample)]
        layers += [resnet.BasicBlock(out_ch, out_ch) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        return self.body(images)
