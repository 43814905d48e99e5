"""Evaluators: COCO box AP (:mod:`eval.coco`), CLEAR MOT / IDF1 (:mod:`eval.mot`) and
MOTChallenge text I/O (:mod:`eval.mot_io`).

Evaluators never import ``trackers`` (or torch): they score arrays, whatever produced them.
"""
