"""eval.mot against the reference toolkits on generated scenes: TrackEval's HOTA / CLEAR /
Identity metric classes (and its MotChallenge2DBox preprocessing), and py-motmetrics.

The references get their own IoU (TrackEval's ``_calculate_box_ious``), their own frame
grouping and id relabelling; only the generated rows are shared.
"""
import numpy as np
import pytest
import trackeval
from trackeval.datasets._base_dataset import _BaseDataset

from eval.mot import MOT17, evaluate_mot, evaluate_mot_dirs
from eval.mot_io import write_mot_txt

TOL = 1e-6
CONFIG = {"PRINT_CONFIG": False}
HOTA = trackeval.metrics.HOTA(CONFIG)
CLEAR = trackeval.metrics.CLEAR(CONFIG)
IDENTITY = trackeval.metrics.Identity(CONFIG)
HOTA_CURVES = ("HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr")


# ------------------------------------------------------------------ generated scenes


def random_scene(rng, num_frames=40, num_objects=8, *, classes=(1,), area=400.0, size=(20, 60), integer=False,
                 p_miss=0.1, p_switch=0.05, fp_rate=0.1, p_absent=0.1, tracker_gap=0.0, noise=4.0):
    """``(gt, pred)`` MOT rows ``frame, id, x, y, w, h, conf, class`` of one sequence.

    Objects random-walk in an ``area`` square; the tracker reports noisy boxes, misses some,
    switches ids (``p_switch`` per object and frame), adds false positives and duplicates,
    and may go blind for whole frames (``tracker_gap``).
    """
    pos = rng.uniform(0, area, (num_objects, 2))
    wh = rng.uniform(*size, (num_objects, 2))
    cls = rng.choice(classes, num_objects)
    tracker_id = np.arange(num_objects) + 100
    next_id = 1000
    gt, pred = [], []
    for frame in range(1, num_frames + 1):
        pos += rng.normal(0, 5, pos.shape)
        present = np.flatnonzero(rng.random(num_objects) > p_absent)
        boxes = np.c_[pos[present], wh[present]]
        if integer:
            boxes = np.round(boxes / 5) * 5
        gt += [[frame, o + 1, *b, 1, cls[o]] for o, b in zip(present, boxes)]
        if rng.random() < tracker_gap:
            continue
        switch = rng.random(num_objects) < p_switch
        tracker_id[switch] = next_id + np.arange(switch.sum())
        next_id += switch.sum()
        for o, b in zip(present, boxes):
            if rng.random() < p_miss:
                continue
            box = b + rng.normal(0, noise, 4)
            box[2:] = np.abs(box[2:]) + 1
            pred.append([frame, tracker_id[o], *(np.round(box / 5) * 5 if integer else box), rng.random(), cls[o]])
        for _ in range(rng.poisson(fp_rate * num_objects)):
            box = [*rng.uniform(0, area, 2), *rng.uniform(*size, 2)]
            pred.append([frame, next_id, *box, rng.random(), rng.choice(classes)])
            next_id += 1
    return np.array(gt, np.float64).reshape(-1, 8), np.array(pred, np.float64).reshape(-1, 8)


SCENES = {
    "typical": dict(),
    "id_switches": dict(p_switch=0.3),
    "fragmented": dict(tracker_gap=0.3, p_miss=0.4),
    "frames_without_gt": dict(p_absent=0.6, num_objects=3),
    "crowded": dict(num_objects=25, area=120.0, size=(30, 60), fp_rate=0.3),
    "crowded_integer_ties": dict(num_objects=20, area=100.0, size=(30, 50), integer=True, fp_rate=0.3),
    "multi_class": dict(classes=(1, 2, 3), num_objects=12),
}


def scene_set(name, seed=0):
    """Three sequences of one scene kind, plus an empty-prediction and an empty-gt sequence."""
    rng = np.random.default_rng(seed)
    kw = SCENES[name]
    gt, pred = {}, {}
    for k in range(3):
        gt[f"s{k}"], pred[f"s{k}"] = random_scene(rng, **kw)
    gt["no_pred"], _ = random_scene(rng, num_frames=10, **kw)
    _, pred["no_gt"] = random_scene(rng, num_frames=10, **kw)
    gt["no_gt"] = np.zeros((0, 8))
    return gt, pred


# ------------------------------------------------------------------ TrackEval reference


def trackeval_data(gt, pred, num_frames, cls=None):
    """TrackEval's metric input built independently from rows (optionally one class)."""
    if cls is not None:
        gt, pred = gt[gt[:, 7] == cls], pred[pred[:, 7] == cls]
    g_frames = [gt[gt[:, 0] == t] for t in range(1, num_frames + 1)]
    p_frames = [pred[pred[:, 0] == t] for t in range(1, num_frames + 1)]
    g_ids, p_ids = np.unique(gt[:, 1]), np.unique(pred[:, 1])
    return {
        "num_timesteps": num_frames,
        "num_gt_ids": len(g_ids), "num_tracker_ids": len(p_ids),
        "num_gt_dets": len(gt), "num_tracker_dets": len(pred),
        "gt_ids": [np.searchsorted(g_ids, f[:, 1]) for f in g_frames],
        "tracker_ids": [np.searchsorted(p_ids, f[:, 1]) for f in p_frames],
        "similarity_scores": [_BaseDataset._calculate_box_ious(g[:, 2:6], p[:, 2:6], box_format="xywh")
                              for g, p in zip(g_frames, p_frames)],
    }


def trackeval_eval(data):
    return {"HOTA": HOTA.eval_sequence(data), "CLEAR": CLEAR.eval_sequence(data),
            "Identity": IDENTITY.eval_sequence(data)}


def trackeval_combine(results, how):
    """``how``: ``combine_sequences``, ``combine_classes_det_averaged`` or ``combine_classes_class_averaged``."""
    return {name: getattr(metric, how)({k: r[name] for k, r in results.items()})
            for name, metric in (("HOTA", HOTA), ("CLEAR", CLEAR), ("Identity", IDENTITY))}


def trackeval_row(res):
    """TrackEval's results under our metric names."""
    h, c, i = res["HOTA"], res["CLEAR"], res["Identity"]
    return {
        **{k: float(np.mean(h[k])) for k in HOTA_CURVES},
        "HOTA(0)": h["HOTA(0)"], "LocA(0)": h["LocA(0)"], "HOTALocA(0)": h["HOTALocA(0)"],
        "MOTA": c["MOTA"], "MOTP": c["MOTP"], "MODA": c["MODA"], "sMOTA": c["sMOTA"],
        "Recall": c["CLR_Re"], "Precision": c["CLR_Pr"],
        "TP": c["CLR_TP"], "FP": c["CLR_FP"], "FN": c["CLR_FN"], "IDSW": c["IDSW"], "Frag": c["Frag"],
        "MT": c["MT"], "PT": c["PT"], "ML": c["ML"],
        "IDF1": i["IDF1"], "IDP": i["IDP"], "IDR": i["IDR"], "IDTP": i["IDTP"], "IDFP": i["IDFP"], "IDFN": i["IDFN"],
    }


def assert_rows_equal(ours, reference, where):
    for name, expected in reference.items():
        got = ours[name]
        if np.isnan(expected):
            assert np.isnan(got), (where, name, got, expected)
        else:
            assert abs(got - expected) <= TOL, (where, name, got, expected)


def num_frames_of(gt, pred):
    return int(max(gt[:, 0].max(initial=0), pred[:, 0].max(initial=0)))


@pytest.mark.parametrize("scene", [s for s in SCENES if s != "multi_class"])
def test_single_class_equals_trackeval(scene):
    gt, pred = scene_set(scene, seed=list(SCENES).index(scene))
    result = evaluate_mot(gt, pred)
    per_seq = {}
    for seq in gt:
        p = pred.get(seq, np.zeros((0, 8)))
        per_seq[seq] = trackeval_eval(trackeval_data(gt[seq], p, num_frames_of(gt[seq], p)))
        assert_rows_equal(result["per_sequence"][seq], trackeval_row(per_seq[seq]), seq)
        assert result["per_sequence"][seq]["GT"] == len(gt[seq])
    assert_rows_equal(result["combined"], trackeval_row(trackeval_combine(per_seq, "combine_sequences")), "combined")
    assert result["per_class"]["1"]["combined"] == result["combined"]


def test_multi_class_equals_trackeval_per_class_and_combined():
    gt, pred = scene_set("multi_class", seed=3)
    result = evaluate_mot(gt, pred, class_names={2: "car"})
    assert set(result["per_class"]) == {"1", "car", "3"}
    per_class = {}
    for cls, label in ((1, "1"), (2, "car"), (3, "3")):
        per_seq = {}
        for seq in gt:
            p = pred.get(seq, np.zeros((0, 8)))
            per_seq[seq] = trackeval_eval(trackeval_data(gt[seq], p, num_frames_of(gt[seq], p), cls))
            assert_rows_equal(result["per_class"][label]["per_sequence"][seq], trackeval_row(per_seq[seq]),
                              (label, seq))
        per_class[cls] = trackeval_combine(per_seq, "combine_sequences")
        assert_rows_equal(result["per_class"][label]["combined"], trackeval_row(per_class[cls]), label)
    assert_rows_equal(result["combined"], trackeval_row(trackeval_combine(per_class, "combine_classes_det_averaged")),
                      "det averaged")
    class_av = trackeval_combine(per_class, "combine_classes_class_averaged")
    assert_rows_equal(result["class_averaged"], trackeval_row(class_av), "class averaged")
    # a sequence row sums the counts of its classes
    for seq in gt:
        assert result["per_sequence"][seq]["FP"] == sum(result["per_class"][c]["per_sequence"][seq]["FP"]
                                                       for c in result["per_class"])
    # class-agnostic: classes are ignored for matching
    agnostic = evaluate_mot(gt, pred, class_aware=False)
    assert "per_class" not in agnostic
    g, p = gt["s0"].copy(), pred["s0"].copy()
    g[:, 7], p[:, 7] = 1, 1
    reference = trackeval_row(trackeval_eval(trackeval_data(g, p, num_frames_of(g, p))))
    assert_rows_equal(agnostic["per_sequence"]["s0"], reference, "agnostic")


# ------------------------------------------------------------------ motmetrics reference


def motmetrics_summary(gt, pred, names):
    import motmetrics as mm

    accs = []
    for seq in names:
        g, p = gt[seq], pred.get(seq, np.zeros((0, 8)))
        acc = mm.MOTAccumulator(auto_id=False)
        for frame in np.union1d(g[:, 0], p[:, 0]):
            gf, pf = g[g[:, 0] == frame], p[p[:, 0] == frame]
            dist = 1.0 - _BaseDataset._calculate_box_ious(gf[:, 2:6], pf[:, 2:6], box_format="xywh")
            dist[dist > 0.5] = np.nan  # motmetrics' iou_matrix(max_iou=0.5)
            acc.update(gf[:, 1].astype(int).tolist(), pf[:, 1].astype(int).tolist(), dist, frameid=int(frame))
        accs.append(acc)
    metrics = list(mm.metrics.motchallenge_metrics) + ["num_objects", "num_detections"]
    return mm.metrics.create().compute_many(accs, metrics=metrics, names=names, generate_overall=True)


def motmetrics_row(s):
    return {
        "MOTA": s.mota, "MOTP": 1.0 - s.motp, "IDF1": s.idf1, "IDP": s.idp, "IDR": s.idr,
        "Recall": s.recall, "Precision": s.precision, "FP": s.num_false_positives, "FN": s.num_misses,
        "IDSW": s.num_switches, "Frag": s.num_fragmentations, "MT": s.mostly_tracked, "PT": s.partially_tracked,
        "ML": s.mostly_lost, "GT": s.num_objects, "GT_IDs": s.num_unique_objects,
    }


@pytest.mark.parametrize("scene", ["typical", "id_switches", "fragmented", "frames_without_gt", "crowded"])
def test_motmetrics_conventions_equal_motmetrics(scene):
    gt, pred = scene_set(scene, seed=7 + len(scene))
    del gt["no_gt"], pred["no_gt"]  # motmetrics has no frames (and no row) for a sequence without any box
    names = list(gt)
    summary = motmetrics_summary(gt, pred, names)
    result = evaluate_mot(gt, pred, conventions="motmetrics", class_aware=False)
    for seq in names:
        assert_rows_equal(result["per_sequence"][seq], motmetrics_row(summary.loc[seq]), seq)
    overall = motmetrics_row(summary.loc["OVERALL"])
    del overall["MOTP"]  # motmetrics' overall MOTP is NaN once a sequence has no match (NaN * 0)
    assert_rows_equal(result["combined"], overall, "OVERALL")
    per_seq = [result["per_sequence"][s] for s in names]
    assert result["combined"]["MOTP"] == pytest.approx(
        sum(r["MOTP"] * r["TP"] for r in per_seq if r["TP"]) / sum(r["TP"] for r in per_seq))


def test_conventions_differ_where_documented():
    """The fragmented scene tells the conventions apart (Frag, and MT's >= vs >)."""
    gt, pred = scene_set("fragmented", seed=11)
    te = evaluate_mot(gt, pred)["combined"]
    mm = evaluate_mot(gt, pred, conventions="motmetrics")["combined"]
    assert te["Frag"] != mm["Frag"]
    assert te["HOTA"] == mm["HOTA"] and te["GT"] == mm["GT"]
    with pytest.raises(ValueError, match="conventions"):
        evaluate_mot(gt, pred, conventions="devkit")


# ------------------------------------------------------------------ MOT17 preprocessing


def mot17_files(tmp_path, rng, num_seqs=2, num_frames=25):
    """MOT17-style folders: gt with distractor classes and zero-marked rows, 10-column
    tracker files with -1 class/world columns; returns (gt_dir, tracker_root, seq_info)."""
    gt_dir, tracker_root = tmp_path / "gt", tmp_path / "trackers"
    seq_info = {}
    for k in range(num_seqs):
        seq = f"MOT17-0{k}"
        gt, pred = random_scene(rng, num_frames=num_frames, num_objects=12, area=150.0, size=(25, 50), fp_rate=0.2)
        cls = rng.choice([1, 1, 1, 2, 7, 8, 12, 3], size=12)[gt[:, 1].astype(int) - 1]
        consider = np.where(cls == 1, rng.random(len(gt)) > 0.1, 0).astype(float)
        visibility = rng.random(len(gt))
        gt_rows = np.c_[gt[:, :6], consider, cls, visibility]
        write_mot_txt(gt_dir / seq / "gt" / "gt.txt", gt_rows)
        (gt_dir / seq / "seqinfo.ini").write_text(f"[Sequence]\nname={seq}\nseqLength={num_frames}\n")
        write_mot_txt(tracker_root / "tr" / "data" / f"{seq}.txt", np.c_[pred[:, :7], -np.ones((len(pred), 3))])
        seq_info[seq] = num_frames
    return gt_dir, tracker_root, seq_info


def test_mot17_preprocessing_equals_trackeval(tmp_path):
    gt_dir, tracker_root, seq_info = mot17_files(tmp_path, np.random.default_rng(5))
    dataset = trackeval.datasets.MotChallenge2DBox({
        "GT_FOLDER": str(gt_dir), "TRACKERS_FOLDER": str(tracker_root), "TRACKERS_TO_EVAL": ["tr"],
        "SEQ_INFO": seq_info, "SKIP_SPLIT_FOL": True, "PRINT_CONFIG": False,
    })
    per_seq = {}
    for seq in seq_info:
        data = dataset.get_preprocessed_seq_data(dataset.get_raw_seq_data("tr", seq), "pedestrian")
        per_seq[seq] = trackeval_eval(data)
    result = evaluate_mot_dirs(gt_dir, tracker_root / "tr" / "data", **MOT17)
    for seq in seq_info:
        assert_rows_equal(result["per_sequence"][seq], trackeval_row(per_seq[seq]), seq)
    assert_rows_equal(result["combined"], trackeval_row(trackeval_combine(per_seq, "combine_sequences")), "combined")
    assert set(result["per_class"]) == {"pedestrian"}
    # the preprocessing matters here: without it the numbers change
    plain = evaluate_mot_dirs(gt_dir, tracker_root / "tr" / "data", classes=[1])
    assert plain["combined"]["FP"] > result["combined"]["FP"] and plain["combined"]["GT"] > result["combined"]["GT"]


def test_mot17_preprocessing_equals_motmetrics_clear_mot_m(tmp_path, monkeypatch):
    """motmetrics' own MOTChallenge pipeline (``utils.CLEAR_MOT_M``: distractor removal,
    confidence and class filter, its IoU); it calls ``np.asfarray``, which numpy 2 removed."""
    import motmetrics as mm

    monkeypatch.setattr(np, "asfarray", lambda a, dtype=float: np.asarray(a, dtype=dtype), raising=False)
    gt_dir, tracker_root, seq_info = mot17_files(tmp_path, np.random.default_rng(5))
    pred_dir = tracker_root / "tr" / "data"
    accs = []
    for seq in seq_info:
        gt = mm.io.loadtxt(gt_dir / seq / "gt" / "gt.txt", fmt="mot16", min_confidence=-1)
        pred = mm.io.loadtxt(pred_dir / f"{seq}.txt", fmt="mot16")
        accs.append(mm.utils.CLEAR_MOT_M(gt, pred, str(gt_dir / seq / "seqinfo.ini"), "iou", distth=0.5)[0])
    metrics = list(mm.metrics.motchallenge_metrics) + ["num_objects"]
    summary = mm.metrics.create().compute_many(accs, metrics=metrics, names=list(seq_info), generate_overall=True)
    result = evaluate_mot_dirs(gt_dir, pred_dir, conventions="motmetrics", **MOT17)
    for seq in seq_info:
        assert_rows_equal(result["per_sequence"][seq], motmetrics_row(summary.loc[seq]), seq)
    overall = motmetrics_row(summary.loc["OVERALL"])
    assert_rows_equal(result["combined"], overall, "OVERALL")
