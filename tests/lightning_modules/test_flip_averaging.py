"""Test-time horizontal flip: anchor mirroring and the flip-equivariance it buys."""
import torch
from torchvision.models.detection._utils import BoxCoder

from lightning_modules.common.flip_averaging import flip_averaged_outputs, mirrored_anchor_index
from retinatrack_nets import init_randomly, small_net


def test_mirrored_anchor_is_the_reflection_and_pairs_are_mutual():
    anchors = small_net().eval()(torch.rand(1, 3, 64, 64))["anchors"]
    partner, valid = mirrored_anchor_index(anchors, 64)
    # torchvision centres anchors at x = 0, s, 2s, ...: the first column of every level
    # has no partner (its reflection would sit at x = 64), every other anchor has one
    centres_x = (anchors[:, 0] + anchors[:, 2]) / 2
    assert torch.equal(~valid, centres_x == 0)
    a, m = anchors[valid], anchors[partner[valid]]
    assert torch.allclose(m[:, 0], 64 - a[:, 2]) and torch.allclose(m[:, 2], 64 - a[:, 0])
    assert torch.equal(m[:, 1::2], a[:, 1::2])
    assert torch.equal(partner[partner[valid]], torch.nonzero(valid).flatten())  # an involution
    assert torch.equal(partner[~valid], torch.nonzero(~valid).flatten())


def test_flip_averaged_outputs_are_flip_equivariant():
    """Averaged scores of an image at an anchor equal those of its mirror image at the
    mirrored anchor, and the boxes are reflections: the detector no longer depends on
    which way the scene faces (the pairing's geometry is checked above)."""
    net = small_net()
    init_randomly(net)
    net.eval()
    coder = BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = flip_averaged_outputs(net, image, coder)
        out_mirror = flip_averaged_outputs(net, image.flip(-1), coder)
    anchors = out["anchors"]
    partner, valid = mirrored_anchor_index(anchors, 64)
    probs, probs_mirror = torch.sigmoid(out["cls_logits"][0]), torch.sigmoid(out_mirror["cls_logits"][0])
    assert torch.allclose(probs[valid], probs_mirror[partner[valid]], atol=1e-5)
    boxes = coder.decode_single(out["box_regression"][0], anchors)[valid]
    x1, y1, x2, y2 = coder.decode_single(out_mirror["box_regression"][0], anchors)[partner[valid]].unbind(-1)
    assert torch.allclose(boxes, torch.stack([64 - x2, y1, 64 - x1, y2], -1), atol=1e-3)
    # without averaging the network itself is not equivariant (so the check above has teeth)
    with torch.no_grad():
        plain, plain_mirror = net(image), net(image.flip(-1))
    assert not torch.allclose(torch.sigmoid(plain["cls_logits"][0])[valid],
                              torch.sigmoid(plain_mirror["cls_logits"][0])[partner[valid]], atol=1e-3)
    # the embeddings are the unflipped pass's own; partner-less anchors keep their outputs
    assert torch.equal(out["embeddings"], plain["embeddings"])
    assert torch.allclose(probs[~valid], torch.sigmoid(plain["cls_logits"][0])[~valid], atol=1e-6)


def test_net_uses_the_flip_only_when_configured():
    net = small_net()
    init_randomly(net)
    net.eval()
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        plain = net.inference_outputs(image)
        net.inference_cfg.test_time_flip = True
        flipped = net.inference_outputs(image)
    assert torch.equal(plain["cls_logits"], net(image)["cls_logits"])
    assert not torch.allclose(plain["cls_logits"], flipped["cls_logits"])
