"""HOTA: hand-computed cases and TrackEval's HOTA class on the module API, edge cases included."""
import numpy as np
import pytest
import trackeval

from eval.hota import ALPHAS, hota_counts, hota_metrics
from eval.mot import evaluate_mot
from eval.sequence import TrackingSequence

TE_HOTA = trackeval.metrics.HOTA({"PRINT_CONFIG": False})
CURVES = ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")


def row(frame, tid, x, w=10.0, h=10.0):
    return [frame, tid, x, 0.0, w, h, 1.0, 1]


def test_alphas_are_trackevals():
    assert np.array_equal(ALPHAS, TE_HOTA.array_labels) and len(ALPHAS) == 19


def test_id_switch_halves_association():
    """One gt track over 4 frames, tracked exactly by tracker track 1 in frames 1-2 and by 2
    in frames 3-4: every match has TPA 2, FNA 2, FPA 0, so AssA = 0.5, AssRe = 0.5,
    AssPr = 1, DetA = 1, HOTA = sqrt(0.5)."""
    gt = {"s": np.array([row(f, 1, 0) for f in range(1, 5)])}
    pred = {"s": np.array([row(f, 1 if f < 3 else 2, 0) for f in range(1, 5)])}
    m = evaluate_mot(gt, pred)["combined"]
    assert m["DetA"] == 1.0 and m["AssA"] == pytest.approx(0.5) and m["HOTA"] == pytest.approx(np.sqrt(0.5))
    assert m["AssRe"] == pytest.approx(0.5) and m["AssPr"] == pytest.approx(1.0) and m["LocA"] == pytest.approx(1.0)


def test_localisation_limits_the_alphas():
    """Every match has IoU 0.62: it counts for the 12 alphas 0.05 .. 0.60 and is a miss plus
    a false positive above. LocA is 1 by definition where nothing matches."""
    gt = {"s": np.array([row(1, 1, 0), row(2, 1, 0)])}
    pred = {"s": np.array([row(1, 5, 0, h=6.2), row(2, 5, 0, h=6.2)])}
    m = evaluate_mot(gt, pred)["combined"]
    assert m["HOTA"] == pytest.approx(12 / 19) and m["DetRe"] == pytest.approx(12 / 19)
    assert m["LocA"] == pytest.approx((12 * 0.62 + 7) / 19)
    assert m["HOTA(0)"] == pytest.approx(1.0) and m["LocA(0)"] == pytest.approx(0.62)
    assert m["HOTALocA(0)"] == pytest.approx(0.62)


def random_sequence(rng, num_frames, num_gt, num_tracker, density=0.5):
    gt_ids, tracker_ids, sims = [], [], []
    for _ in range(num_frames):
        g = rng.permutation(num_gt)[: rng.integers(0, num_gt + 1)]
        d = rng.permutation(num_tracker)[: rng.integers(0, num_tracker + 1)]
        s = rng.random((len(g), len(d))) * (rng.random((len(g), len(d))) < density)
        gt_ids.append(g * 10 + 3)
        tracker_ids.append(d * 7 + 1)
        sims.append(s)
    return TrackingSequence.from_frames(gt_ids, tracker_ids, sims)


def te_data(seq):
    return {"num_timesteps": seq.num_frames, "num_gt_ids": seq.num_gt_ids, "num_tracker_ids": seq.num_tracker_ids,
            "num_gt_dets": seq.num_gt_dets, "num_tracker_dets": seq.num_tracker_dets, "gt_ids": seq.gt_ids,
            "tracker_ids": seq.tracker_ids, "similarity_scores": seq.similarity}


def te_values(res):
    return {**{k: float(np.mean(res[k])) for k in CURVES}, **{k: res[k] for k in ("HOTA(0)", "LocA(0)", "HOTALocA(0)")}}


def test_equals_trackeval_including_empty_sequences():
    rng = np.random.default_rng(0)
    sequences = {
        "dense": random_sequence(rng, 30, 6, 8, density=0.8),
        "sparse": random_sequence(rng, 30, 10, 10, density=0.1),
        "no_tracker": TrackingSequence.from_frames([np.array([1, 2])], [np.zeros(0)], [np.zeros((2, 0))]),
        "no_gt": TrackingSequence.from_frames([np.zeros(0)], [np.array([4])], [np.zeros((0, 1))]),
        "nothing": TrackingSequence.from_frames([np.zeros(0)] * 3, [np.zeros(0)] * 3, [np.zeros((0, 0))] * 3),
    }
    reference, counts = {}, {}
    for name, seq in sequences.items():
        reference[name] = TE_HOTA.eval_sequence(te_data(seq))
        counts[name] = hota_counts(seq)
        ours = hota_metrics(counts[name])
        for key, value in te_values(reference[name]).items():
            assert ours[key] == pytest.approx(value, abs=1e-9), (name, key)
    summed = {k: sum(c[k] for c in counts.values()) for k in counts["dense"]}
    combined = hota_metrics(summed)
    for key, value in te_values(TE_HOTA.combine_sequences(reference)).items():
        assert combined[key] == pytest.approx(value, abs=1e-9), key
