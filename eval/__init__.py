"""Evaluators: the metrics the five papers report, equal to the reference toolkits.

- boxes over time: :mod:`eval.mot` (HOTA, CLEAR MOT, identity; MOTChallenge folders),
  built from :mod:`eval.sequence`, :mod:`eval.matching`, :mod:`eval.clear`,
  :mod:`eval.identity`, :mod:`eval.hota`, :mod:`eval.preprocess`, :mod:`eval.results`;
- masks over time: :mod:`eval.mots` (sMOTSA, MOTSA, MOTSP, IDF1, HOTA);
- TAO track mAP: :mod:`eval.tao`; COCO and LVIS AP: :mod:`eval.coco`, :mod:`eval.lvis`;
- single-object tracking: :mod:`eval.sot` (OTB/LaSOT, GOT-10k, OxUvA, VOT-LT);
- video object segmentation: :mod:`eval.davis` (J and F);
- readers and writers: :mod:`eval.mot_io`, :mod:`eval.mots_io`, :mod:`eval.results_io`
  (COCO / TAO results JSON), :mod:`eval.sot_io`, :mod:`eval.davis_io`;
- the command line: ``python -m eval <kind> --gt ... --pred ... --out ...``
  (:mod:`eval.__main__`); tables: :mod:`eval.table`.

Evaluators never import ``trackers`` (or torch): they score arrays, whatever produced them.
"""
