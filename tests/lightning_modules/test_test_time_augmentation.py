"""Test-time augmentation: views map anchors onto anchors, and averaging over a group of
views makes the detector equivariant to it."""
import pytest
import torch
from torchvision.models.detection._utils import BoxCoder

from lightning_modules.common.test_time_augmentation import (
    VIEWS, augmented_outputs, transform_boxes, transform_images, view_anchor_index,
)
from lightning_modules.retinatrack.network import InferenceConfig
from retinatrack_nets import init_randomly, small_net

SIZE = (64, 64)


def random_net():
    net = small_net()
    init_randomly(net)
    return net.eval()


@pytest.mark.parametrize("ops", ["h", "v", "t", "thv"])
def test_boxes_follow_the_image(ops):
    """A box drawn as a mask lands where transform_boxes puts it, and reversed ops undo it."""
    image = torch.zeros(1, 1, 64, 64)
    image[..., 5:20, 30:60] = 1  # rows 5-19, columns 30-59: box (30, 5, 60, 20)
    box = torch.tensor([[30.0, 5.0, 60.0, 20.0]])
    moved = transform_boxes(box, ops, SIZE)
    rows, cols = torch.nonzero(transform_images(image, ops)[0, 0], as_tuple=True)
    assert moved.tolist() == [[cols.min().item(), rows.min().item(), cols.max().item() + 1, rows.max().item() + 1]]
    assert torch.equal(transform_boxes(moved, ops[::-1], SIZE), box)


def test_view_anchor_is_the_image_of_the_anchor():
    anchors = small_net().eval()(torch.rand(1, 3, 64, 64))["anchors"]
    partner, valid = view_anchor_index(anchors, "h", SIZE)
    # torchvision centres anchors at x = 0, s, 2s, ...: the first column of every level
    # has no mirror partner (it would sit at x = 64); every other anchor has one
    centres_x = (anchors[:, 0] + anchors[:, 2]) / 2
    assert torch.equal(~valid, centres_x == 0)
    assert torch.equal(anchors[partner[valid]], transform_boxes(anchors[valid], "h", SIZE))
    assert torch.equal(partner[partner[valid]], torch.nonzero(valid).flatten())  # mutual pairs
    # a transpose maps the 1:2 anchors onto the 2:1 ones, and every anchor has a partner
    partner_t, valid_t = view_anchor_index(anchors, "t", SIZE)
    assert valid_t.all()
    widths, heights = (anchors[:, 2:] - anchors[:, :2]).unbind(-1)
    assert torch.equal(widths[partner_t], heights) and not torch.equal(widths, heights)


@pytest.mark.parametrize("views", sorted(VIEWS))
def test_averaged_outputs_are_equivariant_to_the_views(views):
    """Scores of an image at an anchor equal those of any view of it at the anchor that
    view maps it to, and the boxes are mapped alike: the detector no longer depends on
    which way the scene faces (for anchors whose partners all exist)."""
    net, coder = random_net(), BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = augmented_outputs(net, image, coder, views)
        anchors = out["anchors"]
        everywhere = torch.stack([view_anchor_index(anchors, ops, SIZE)[1] for ops in VIEWS[views]]).all(0)
        probs = torch.sigmoid(out["cls_logits"][0])[everywhere]
        boxes = coder.decode_single(out["box_regression"][0], anchors)[everywhere]
        for ops in VIEWS[views][1:]:
            seen = augmented_outputs(net, transform_images(image, ops), coder, views)
            partner = view_anchor_index(anchors, ops, SIZE)[0][everywhere]
            assert torch.allclose(torch.sigmoid(seen["cls_logits"][0])[partner], probs, atol=1e-5)
            seen_boxes = coder.decode_single(seen["box_regression"][0], anchors)[partner]
            # random weights decode to boxes 1e5 px wide: compare at float32 precision of that
            scale = boxes.abs().max()
            assert torch.allclose(seen_boxes / scale, transform_boxes(boxes, ops, SIZE) / scale, atol=1e-6)
            # without averaging the network itself is not equivariant (the check has teeth)
            plain, plain_seen = net(image), net(transform_images(image, ops))
            assert not torch.allclose(torch.sigmoid(plain_seen["cls_logits"][0])[partner],
                                      torch.sigmoid(plain["cls_logits"][0])[everywhere], atol=1e-3)
    assert torch.equal(out["embeddings"], net(image)["embeddings"])  # the image's own


def test_anchors_without_partners_keep_the_views_that_have_them():
    net, coder = random_net(), BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = augmented_outputs(net, image, coder, "hflip")
        plain = net(image)
    no_mirror = ~view_anchor_index(out["anchors"], "h", SIZE)[1]
    assert torch.allclose(torch.sigmoid(out["cls_logits"][0])[no_mirror],
                          torch.sigmoid(plain["cls_logits"][0])[no_mirror], atol=1e-6)


def test_net_augments_only_when_configured_and_checks_the_choice():
    net, image = random_net(), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        plain = net.inference_outputs(image)
        net.inference_cfg.test_time_augment = "hflip"
        flipped = net.inference_outputs(image)
    assert torch.equal(plain["cls_logits"], net(image)["cls_logits"])
    assert not torch.allclose(plain["cls_logits"], flipped["cls_logits"])
    with pytest.raises(ValueError, match="test_time_augment='mirror'"):
        InferenceConfig(test_time_augment="mirror")
    with pytest.raises(ValueError, match="square"):
        augmented_outputs(net, torch.rand(1, 3, 64, 96), BoxCoder((1.0, 1.0, 1.0, 1.0)), "dihedral")
