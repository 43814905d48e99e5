"""Ground-truth MOT rows from the annotation schema."""
import numpy as np

from datamodules.schema import Frame, Video
from eval.mot_io import video_to_mot_rows


def test_video_to_mot_rows_converts_boxes_and_drops_crowd():
    frames = [
        Frame("a.jpg", 64, 64, 0, 1, boxes=[[1, 2, 11, 22], [5, 5, 9, 9]], labels=[0, 1],
              track_ids=[7, -1], iscrowd=[False, True]),
        Frame("b.jpg", 64, 64, 1, 2),  # no objects
        Frame("c.jpg", 64, 64, 2, 3, boxes=[[0, 0, 4, 4]], labels=[1], track_ids=[8]),
    ]
    rows = video_to_mot_rows(Video(1, "v", frames), label_to_class=[10, 20])
    expected = np.array([
        [1, 7, 1, 2, 10, 20, 1, 10],
        [3, 8, 0, 0, 4, 4, 1, 20],
    ], np.float64)
    np.testing.assert_array_equal(rows, expected)
    assert video_to_mot_rows(Video(2, "empty", [frames[1]])).shape == (0, 8)
