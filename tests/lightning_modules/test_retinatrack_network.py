"""RetinaTrack network: the paper's defining properties, assignment rules and learning."""
import pytest
import torch
from torchvision.ops import box_iou

from lightning_modules.common.backbones import ResNetFPN
from lightning_modules.retinatrack.head import RetinaTrackHead
from retinatrack_nets import init_randomly, small_net


def test_anchor_layout_and_output_shapes():
    net = small_net().eval()
    out = net(torch.rand(2, 3, 64, 64))
    # P3..P7 on 64 px: 8x8, 4x4, 2x2, 1x1, 1x1 locations, K = 6 anchors each.
    num_anchors = (64 + 16 + 4 + 1 + 1) * 6
    assert out["anchors"].shape == (num_anchors, 4)
    assert out["cls_logits"].shape == (2, num_anchors, 3)
    assert out["box_regression"].shape == (2, num_anchors, 4)
    assert out["embeddings"].shape == (2, num_anchors, 16)
    # torchvision order: location-major, anchor-minor -> the first 6 anchors share a centre.
    centres = (out["anchors"][:6, :2] + out["anchors"][:6, 2:]) / 2
    assert torch.allclose(centres, centres[:1].expand(6, 2))


def test_per_anchor_embeddings_differ_at_the_same_location():
    net = small_net(per_anchor=True)
    init_randomly(net)
    net.eval()
    emb = net(torch.rand(1, 3, 64, 64))["embeddings"][0]
    same_location = emb[:6]  # the K anchors of location 0 of P3
    distances = torch.cdist(same_location, same_location)
    off_diagonal = distances[~torch.eye(6, dtype=torch.bool)]
    assert off_diagonal.min() > 1e-3


def test_retinanet_star_shares_embeddings_between_colliding_anchors():
    net = small_net(per_anchor=False, m1=0, m2=4)
    init_randomly(net)
    net.eval()
    emb = net(torch.rand(1, 3, 64, 64))["embeddings"][0]
    assert torch.allclose(emb[:6], emb[:1].expand(6, -1))
    assert not torch.allclose(emb[0], emb[6])  # a different location differs


def test_per_anchor_towers_are_independent():
    """Anchor k's instance feature depends only on θ_k: perturbing tower 0's later
    layers changes anchor 0's outputs and leaves anchor 1's untouched."""
    head = RetinaTrackHead(8, num_anchors=2, num_classes=1, num_levels=1, m1=2, channels=4, embedding_dim=4)
    head.eval()
    x = torch.rand(1, 8, 5, 5)
    before = head([x])["embeddings"][0].view(25, 2, 4)
    with torch.no_grad():
        head.shared.convs[1].weight[:4] += 1.0  # second conv, output group of anchor 0
    after = head([x])["embeddings"][0].view(25, 2, 4)
    assert not torch.allclose(before[:, 0], after[:, 0])
    assert torch.allclose(before[:, 1], after[:, 1])


def test_head_structure_follows_m1_m2_m3():
    head = RetinaTrackHead(16, num_anchors=6, num_classes=3, num_levels=5, m1=2, m2=3, m3=4, channels=8)
    assert len(head.shared) == 2 and len(head.cls_tower) == 3 and len(head.emb_tower) == 4
    assert head.shared.convs[0].out_channels == 6 * 8  # one tower per anchor shape
    assert head.shared.convs[1].groups == 6
    # Batch norm is not tied across levels: one per level for each shared conv.
    assert len(head.shared.norms[0]) == 5
    shared = RetinaTrackHead(16, num_anchors=6, num_classes=3, num_levels=5, per_anchor=False, m1=0, m2=4, share_task_weights=True)
    assert shared.cls_tower is shared.box_tower
    with pytest.raises(ValueError, match="m1"):
        RetinaTrackHead(16, 6, 3, 5, per_anchor=True, m1=0)


def test_assignment_rules():
    net = small_net()
    anchors = torch.tensor([
        [0.0, 0.0, 10.0, 10.0],   # IoU 1.0 with gt 0
        [0.0, 0.0, 10.0, 12.0],   # IoU 0.833 with gt 0
        [0.0, 0.0, 10.0, 17.0],   # IoU 0.588 with gt 0: positive, no identity (< 0.7)
        [50.0, 50.0, 60.0, 60.0],  # background
        [30.0, 30.0, 40.0, 48.0],  # best anchor of gt 1 (IoU 0.3): forced positive
    ])
    target = {
        "boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0], [30.0, 30.0, 40.0, 36.0]]),
        "labels": torch.tensor([0, 2]),
        "track_ids": torch.tensor([7, 9]),
    }
    matched, identity = net.assign(anchors, target)
    assert matched.tolist() == [0, 0, 0, -1, 1]
    assert identity.tolist() == [7, 7, -1, -1, -1]


def test_crowd_regions_are_ignored_not_background():
    net = small_net()
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0], [60.0, 60.0, 70.0, 70.0]])
    target = {
        "boxes": torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 31.0]]),
        "labels": torch.tensor([0, 0]), "track_ids": torch.tensor([1, -1]),
        "iscrowd": torch.tensor([False, True]),
    }
    matched, _ = net.assign(anchors, target)
    assert matched.tolist() == [0, -2, -1]


def _overfit_batch():
    torch.manual_seed(1)
    images = torch.rand(4, 3, 64, 64) * 0.2
    # Boxes on the stride-8 anchor grid (16x16 and 16x32 anchors) so identities get anchors
    # with IoU >= 0.7; frames 1 and 3 move both objects by one stride.
    boxes = [torch.tensor([[8.0, 8.0, 24.0, 24.0], [40.0, 24.0, 56.0, 56.0]]) + 8 * (i % 2) for i in range(4)]
    for img, b in zip(images, boxes):
        for (x1, y1, x2, y2), colour in zip(b.int().tolist(), ([1.0, 0.2, 0.2], [0.2, 0.3, 1.0])):
            img[:, y1:y2, x1:x2] = torch.tensor(colour).view(3, 1, 1)
    targets = [{"boxes": b, "labels": torch.tensor([0, 1]), "track_ids": torch.tensor([1, 2])} for b in boxes]
    return images, targets, torch.tensor([0, 0, 1, 1])


def test_tiny_model_overfits_a_few_frames():
    net = small_net()
    images, targets, clips = _overfit_batch()
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        losses = net.losses(net(images), targets, clips)
        optimizer.zero_grad()
        losses["loss"].backward()
        optimizer.step()
        first = first if first is not None else {k: v.item() for k, v in losses.items()}
    last = {k: v.item() for k, v in losses.items()}
    assert last["cls"] < 0.3 * first["cls"] and last["box"] < 0.3 * first["box"]
    assert last["triplet"] < first["triplet"]
    net.eval()
    outputs = net(images)
    # The K towers start from identical weights (tie_anchor_init) yet train apart: the
    # anchors at one location now own different embeddings.
    at_location = outputs["embeddings"][0][:6]
    distances = torch.cdist(at_location, at_location)[~torch.eye(6, dtype=torch.bool)]
    assert distances.min() > 1e-4
    detections = net.detect(outputs, (64, 64))
    for det, target in zip(detections, targets):
        top = det["boxes"][det["scores"] > 0.5]
        assert len(top) >= 2
        assert (box_iou(target["boxes"], top).max(1).values > 0.7).all()
    # Embeddings of the detections separate the two identities.
    emb0 = [d["embeddings"][d["labels"] == 0][0] for d in detections]
    emb1 = [d["embeddings"][d["labels"] == 1][0] for d in detections]
    same = torch.dist(emb0[0], emb0[1])
    other = torch.dist(emb0[0], emb1[0])
    assert same < other


def test_resnet50_backbone_builds_pyramid():
    backbone = ResNetFPN(depth=18, out_channels=32)
    feats = backbone(torch.rand(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats.values()] == [16, 8, 4, 2, 1]
    assert backbone.strides == (8, 16, 32, 64, 128)


def test_bf16_autocast_keeps_anchors_and_losses_in_fp32():
    net = small_net()
    images, targets, clip_ids = _overfit_batch()
    reference = net(images)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs = net(images)
        losses = net.losses(outputs, targets, clip_ids)
    assert outputs["cls_logits"].dtype == torch.bfloat16  # the network itself ran in bf16
    assert outputs["anchors"].dtype == torch.float32
    assert torch.equal(outputs["anchors"], reference["anchors"])
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
    fp32_losses = net.losses(reference, targets, clip_ids)
    assert losses["box"].item() == pytest.approx(fp32_losses["box"].item(), rel=0.05)
