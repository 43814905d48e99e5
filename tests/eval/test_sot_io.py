"""Single-object-tracking files: box text files, absence flags, GOT-10k meta data."""
import numpy as np
import pytest

from eval.sot_io import read_flags, read_image_size, read_sot_ground_truth, read_sot_txt, write_sot_txt


def test_round_trip_with_absent_rows_and_scores(tmp_path):
    boxes = np.array([[1.5, 2.25, 30.0, 40.125], [np.nan] * 4, [0, 0, 5, 5]])
    path = tmp_path / "sub" / "seq.txt"
    write_sot_txt(path, boxes)
    lines = path.read_text().splitlines()
    assert lines == ["1.5000,2.2500,30.0000,40.1250", "nan,nan,nan,nan", "0.0000,0.0000,5.0000,5.0000"]
    np.testing.assert_array_equal(read_sot_txt(path), boxes)
    write_sot_txt(path, boxes, scores=[0.875, np.nan, 1e-7])
    back = read_sot_txt(path)
    assert back.shape == (3, 5)
    np.testing.assert_array_equal(back[:, :4], boxes)
    np.testing.assert_array_equal(back[:, 4], [0.875, np.nan, 1e-7])
    with pytest.raises(ValueError, match="3 boxes but 2 scores"):
        write_sot_txt(path, boxes, scores=[1, 1])


@pytest.mark.parametrize("line", ["1,2,3,4", "1\t2\t3\t4", "1 2  3 4", "1, 2, 3, 4", " 1,2,3,4 \r"])
def test_separators(tmp_path, line):
    path = tmp_path / "gt.txt"
    path.write_text(f"{line}\n{line}\n\n\n")  # trailing blank lines are fine
    np.testing.assert_array_equal(read_sot_txt(path), [[1, 2, 3, 4]] * 2)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    assert read_sot_txt(path).shape == (0, 4)


@pytest.mark.parametrize(
    "bad_line, match",
    [
        ("1,2,3", "expected 4 or 5 fields, got 3"),
        ("1,2,3,4,5,6", "expected 4 or 5 fields, got 6"),
        ("1,2,3,4,0.5", "expected 4 fields like the first line, got 5"),
        ("1,2,x,4", "non-numeric"),
        ("1,nan,3,4", "all finite or all NaN"),
        ("1,2,inf,4", "all finite or all NaN"),
        ("1,2,-3,4", "negative width or height"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, bad_line, match):
    path = tmp_path / "bad.txt"
    path.write_text(f"0,0,1,1\nnan,nan,nan,nan\n{bad_line}\n")
    with pytest.raises(ValueError, match=match) as err:
        read_sot_txt(path)
    assert f"{path}:3:" in str(err.value)


def test_score_rules(tmp_path):
    path = tmp_path / "pred.txt"
    path.write_text("0,0,1,1,0.5\nnan,nan,nan,nan,nan\n0,0,1,1,nan\n")  # absent rows may lack a score
    with pytest.raises(ValueError, match=f"{path}:3: box must be all finite"):
        read_sot_txt(path)
    with pytest.raises(ValueError, match=f"{path}:1: expected 4 fields, got 5"):
        read_sot_txt(path, columns=(4,))


def test_blank_line_before_the_last_frame_is_an_error(tmp_path):
    path = tmp_path / "gap.txt"
    path.write_text("0,0,1,1\n\n0,0,1,1\n")
    with pytest.raises(ValueError, match=f"{path}:2: blank line"):
        read_sot_txt(path)


def test_read_flags(tmp_path):
    per_line, one_line = tmp_path / "absence.label", tmp_path / "full_occlusion.txt"
    per_line.write_text("0\n1\n0\n")
    one_line.write_text("0,1,0")
    np.testing.assert_array_equal(read_flags(per_line), [0, 1, 0])
    np.testing.assert_array_equal(read_flags(one_line), [0, 1, 0])
    per_line.write_text("0\n0.5\n")
    with pytest.raises(ValueError, match=f"{per_line}:2: expected integer flags"):
        read_flags(per_line)


def test_read_image_size(tmp_path):
    meta = tmp_path / "meta_info.ini"
    meta.write_text("[METAINFO]\nurl: https://x.y/z\nbegin: 00:00:49\nresolution: (1280, 720)\n")
    assert read_image_size(meta) == (1280, 720)
    meta.write_text("[METAINFO]\nurl: https://x.y/z\n")
    assert read_image_size(meta) is None
    meta.write_text("[METAINFO]\nresolution: 1280\n")
    with pytest.raises(ValueError, match=f"{meta}:2: expected 'resolution: \\(W, H\\)'"):
        read_image_size(meta)


def test_read_sot_ground_truth_combines_every_absence_source(tmp_path):
    seq = tmp_path / "seq"
    write_sot_txt(seq / "groundtruth.txt", np.array([[0, 0, 5, 5]] * 5 + [[np.nan] * 4, [0, 0, 0, 0]]))
    (seq / "absence.label").write_text("0\n1\n0\n0\n0\n0\n0\n")
    (seq / "cover.label").write_text("8\n8\n0\n8\n8\n8\n8\n")
    (seq / "full_occlusion.txt").write_text("0,0,0,1,0,0,0")
    (seq / "out_of_view.txt").write_text("0,0,0,0,1,0,0")
    (seq / "meta_info.ini").write_text("resolution: (64, 48)\n")
    gt = read_sot_ground_truth(seq)
    np.testing.assert_array_equal(gt.absent, [False, True, True, True, True, True, True])
    assert gt.image_size == (64, 48) and len(gt) == 7


def test_read_sot_ground_truth_errors(tmp_path):
    seq = tmp_path / "seq"
    seq.mkdir()
    (seq / "groundtruth.txt").write_text("")
    with pytest.raises(ValueError, match="groundtruth.txt: no frames"):
        read_sot_ground_truth(seq)
    (seq / "groundtruth.txt").write_text("0,0,5,5\n0,0,5,5\n")
    (seq / "cover.label").write_text("8\n8\n8\n")
    with pytest.raises(ValueError, match=r"cover\.label: 3 flags but 2 ground-truth frames"):
        read_sot_ground_truth(seq)
    (seq / "cover.label").unlink()
    (seq / "groundtruth.txt").write_text("0,0,5,5,1\n")
    with pytest.raises(ValueError, match=r"groundtruth\.txt:1: expected 4 fields, got 5"):
        read_sot_ground_truth(seq)
