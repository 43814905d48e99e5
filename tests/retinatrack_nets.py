"""Small RetinaTrack networks for the model tests."""
import torch

from lightning_modules.common.backbones import SmallResNetFPN
from lightning_modules.retinatrack.network import RetinaTrackNet


def small_net(**head) -> RetinaTrackNet:
    """A seeded RetinaTrack with a narrow backbone (K = 6, 3 classes, 16-d embeddings)."""
    torch.manual_seed(0)
    backbone = SmallResNetFPN(widths=(16, 16, 32, 32), out_channels=32)
    head = {"channels": 32, "embedding_dim": 16, **head}
    return RetinaTrackNet(backbone, num_classes=3, head=head, anchor_size_per_stride=2.0)


def init_randomly(net: torch.nn.Module) -> None:
    """Break the paper's near-zero init so features are far from degenerate."""
    with torch.no_grad():
        for p in net.parameters():
            if p.ndim > 1:
                p.normal_(0, 0.2)
