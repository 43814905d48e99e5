"""Synthetic video world: seeded short videos of moving, textured objects.

This is TrackZoo's built-in default dataset. It is small enough to train a CPU detector
with appearance embeddings (RetinaTrack) in minutes, and it is built so that identity is
hard for IoU-only association but solvable by appearance:

- objects move fast (by default many frame-to-frame displacements exceed ~0.6x the object
  size, so consecutive boxes of one object often have IoU < 0.3);
- objects cross each other (depth order, painter's algorithm) and pass behind grey
  "occluders" (pillars / bars, not annotated) that hide them for several frames;
- "look-alikes" share category, shape and texture type with another object of the same
  video and differ only in their colours, and they are steered to cross that object.

On-disk layout written by :func:`generate_world` (``<video_name>`` like ``synth_train_0003``)::

    <root>/images/<split>/<video_name>/<frame_index:06d>.jpg   frame_index is 0-based
    <root>/annotations/<split>.json                           COCO-video / TAO format
    <root>/mot/<split>/<video_name>/gt/gt.txt                 MOTChallenge ground truth
    <root>/mot/<split>/<video_name>/seqinfo.ini
    <root>/mots/<split>/<video_name>.txt                      MOTS (KITTI-MOTS txt)
    <root>/world.json      config + format version; written LAST (marks a complete dataset)

COCO-video JSON (``annotations/<split>.json``)
    ``images[].file_name`` is relative to ``<root>/images`` (like TAO, whose file names are
    relative to the frames root and start with the split), e.g.
    ``"train/synth_train_0003/000000.jpg"``; ``info.image_root`` repeats this (``"images"``,
    relative to ``<root>``). ``images[].frame_index`` is 0-based. Boxes are COCO
    ``[x, y, w, h]`` in pixel-edge coordinates: the tight box of the visible mask, i.e.
    ``x = min column``, ``w = max column - min column + 1`` (what ``pycocotools.mask.toBbox``
    returns for the mask). ``area`` is the visible-mask area, ``segmentation`` a compressed
    RLE of the visible mask (visible masks of one frame never overlap) and ``visibility``
    (extra key) the visible fraction. ``tracks[]`` carry ``appearance``: texture type,
    the two RGB colours, shape, and ``lookalike_of`` (the track id this object copies, or
    null). Track ids are unique over all splits of a world (see :func:`track_id_for`).

MOTChallenge ``gt.txt``
    ``frame(1-based),id(track id),bb_left,bb_top,bb_width,bb_height,1,class(category id),
    visibility`` with the *same* numbers as the JSON bbox (0-based pixel-edge coordinates,
    no +1 shift). ``seqinfo.ini`` points ``imDir`` at ``../../../images/<split>/<video>``
    (relative to the sequence directory); image files there are named by the 0-based frame
    index, so MOT frame ``f`` is ``{f - 1:06d}.jpg`` (recorded as ``imFirstIndex=0``).

MOTS txt
    ``time_frame(0-based) object_id class_id img_height img_width rle`` with
    ``object_id = class_id * 1000 + instance`` where ``instance`` (1..999) numbers the
    sequence's annotated tracks in order of first appearance.

Visibility: an object is annotated in a frame iff its visible area (inside the image, not
hidden by nearer objects or occluders) is at least ``min_visibility`` of its full
unoccluded shape area (the part outside the image counts as hidden, so objects entering or
leaving through a border are annotated only once enough of them is inside).

CLI::

    python -m datamodules.synthetic --root data/synthetic [--seed N] [--train-videos N]
        [--val-videos N] [--tune-videos N] [--frames N] [--force]
"""
from __future__ import annotations

import argparse
import colorsys
import json
import math
import shutil
import zlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np
from pycocotools import mask as mask_utils
from tqdm import tqdm

FORMAT_VERSION = 1
SHAPES = ("disc", "box", "triangle")
TEXTURES = ("stripes", "checker", "dots", "gradient")

# Track ids: split_rank * _SPLIT_STRIDE + video_index * _VIDEO_STRIDE + object_index + 1.
_SPLIT_STRIDE = 100_000_000
_VIDEO_STRIDE = 10_000


# --------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------
@dataclass
class SyntheticWorldConfig:
    """Everything that determines a synthetic world (same config => identical files).

    Ranges are ``(low, high)`` and sampled uniformly (integer ranges inclusive).

    Attributes:
        seed: master seed; every split / video derives its own generator from it.
        width: frame width in pixels.
        height: frame height in pixels.
        num_videos: number of videos per split, e.g. ``{"train": 24, "val": 6}``. The
            default adds ``tune``: held-out videos for choosing inference and tracking
            settings, so that ``val`` only reports (each split draws its videos from its
            own name, so adding or removing a split leaves the others byte for byte).
        frames_per_video: frames per video.
        categories: annotated categories, names from ``SHAPES`` ("disc", "box",
            "triangle"); category id = 1-based position in this list.
        objects_per_frame: (min, max) number of objects a video tries to keep alive
            (one target per video drawn from it, occasionally re-drawn).
        object_size: (min, max) base object size in pixels at scale 1 (diameter of a
            round disc; other shapes have a similar area).
        speed: (min, max) initial object speed in pixels / frame.
        acceleration: std of the random per-frame velocity change, pixels / frame^2.
        scale_range: (min, max) multiplier of the base size; the scale drifts smoothly
            inside it.
        scale_drift: std of the per-frame change of the log-scale velocity (1 / frame).
        rotation_speed: std of the per-object angular velocity, radians / frame.
        lookalike_prob: probability that a newly entering object is a look-alike of a
            live object (same category, shape and texture type; different colours).
        crossing_prob: probability that a newly entering (non look-alike) object is aimed
            to cross the path of a live object (look-alikes always are).
        spawn_prob: per-frame probability to spawn an object while the video has fewer
            live objects than its target.
        num_occluders: (min, max) number of grey occluders (pillars / bars) per video.
        occluder_width: (min, max) occluder thickness in pixels.
        occluder_speed: maximum occluder speed in pixels / frame (0 = static).
        min_visibility: minimum visible fraction of the full shape area for an object
            to be annotated in a frame, in [0, 1].
        noise_std: std of the per-frame Gaussian pixel noise, in 0..255 intensity units.
        jpeg_quality: JPEG quality (0..100) of the written frames.
        frame_rate: nominal frames per second (written to seqinfo.ini).
    """

    seed: int = 0
    width: int = 128
    height: int = 128
    num_videos: dict[str, int] = field(default_factory=lambda: {"train": 24, "val": 6, "tune": 6})
    frames_per_video: int = 48
    categories: tuple[str, ...] = ("disc", "box", "triangle")
    objects_per_frame: tuple[int, int] = (3, 6)
    object_size: tuple[float, float] = (16.0, 36.0)
    speed: tuple[float, float] = (5.0, 24.0)
    acceleration: float = 0.6
    scale_range: tuple[float, float] = (0.7, 1.4)
    scale_drift: float = 0.01
    rotation_speed: float = 0.03
    lookalike_prob: float = 0.35
    crossing_prob: float = 0.4
    spawn_prob: float = 0.7
    num_occluders: tuple[int, int] = (1, 2)
    occluder_width: tuple[float, float] = (14.0, 28.0)
    occluder_speed: float = 0.5
    min_visibility: float = 0.3
    noise_std: float = 3.0
    jpeg_quality: int = 90
    frame_rate: int = 10

    def __post_init__(self) -> None:
        # Accept lists / OmegaConf containers (from YAML / JSON) and normalise to tuples.
        self.num_videos = {str(k): int(v) for k, v in dict(self.num_videos).items()}
        self.categories = tuple(str(c) for c in self.categories)
        self.objects_per_frame = tuple(int(x) for x in self.objects_per_frame)
        for name in ("object_size", "speed", "scale_range", "occluder_width"):
            setattr(self, name, tuple(float(x) for x in getattr(self, name)))
        self.num_occluders = tuple(int(x) for x in self.num_occluders)
        self._validate()

    def _validate(self) -> None:
        def bad(msg: str) -> None:
            raise ValueError(f"SyntheticWorldConfig: {msg}")

        if self.width < 16 or self.height < 16:
            bad("width and height must be >= 16")
        if not self.num_videos:
            bad("num_videos must name at least one split")
        for split, n in self.num_videos.items():
            if not 0 <= n < _VIDEO_STRIDE:
                bad(f"num_videos[{split!r}] must be in [0, {_VIDEO_STRIDE})")
        if len(self.num_videos) > 20:
            bad("at most 20 splits")
        if self.frames_per_video < 1:
            bad("frames_per_video must be >= 1")
        if not self.categories:
            bad("categories must not be empty")
        unknown = [c for c in self.categories if c not in SHAPES]
        if unknown or len(set(self.categories)) != len(self.categories):
            bad(f"categories must be distinct names from {SHAPES}, got {self.categories}")
        for name in ("objects_per_frame", "object_size", "speed", "scale_range",
                     "num_occluders", "occluder_width"):
            lo_hi = getattr(self, name)
            if len(lo_hi) != 2 or lo_hi[0] > lo_hi[1] or lo_hi[0] < 0:
                bad(f"{name} must be a (low, high) pair with 0 <= low <= high")
        if self.objects_per_frame[1] < 1:
            bad("objects_per_frame high must be >= 1")
        if self.object_size[0] < 4:
            bad("object_size low must be >= 4 px")
        if self.speed[1] <= 0:
            bad("speed high must be > 0")
        if self.scale_range[0] <= 0:
            bad("scale_range low must be > 0")
        for name in ("lookalike_prob", "crossing_prob", "spawn_prob", "min_visibility"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                bad(f"{name} must be in [0, 1]")
        if not 0 <= self.jpeg_quality <= 100:
            bad("jpeg_quality must be in [0, 100]")

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.num_videos)

    def to_dict(self) -> dict:
        """JSON-compatible dict (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict) -> "SyntheticWorldConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(data).items() if k in known})


def video_name(split: str, video_index: int) -> str:
    return f"synth_{split}_{video_index:04d}"


def track_id_for(config: SyntheticWorldConfig, split: str, video_index: int,
                 object_index: int) -> int:
    """Dataset-wide unique track id (unique across the splits of one world)."""
    rank = config.splits.index(split)
    if object_index >= _VIDEO_STRIDE - 1:
        raise ValueError(f"video {video_name(split, video_index)}: more than "
                         f"{_VIDEO_STRIDE - 1} objects; use shorter videos")
    return rank * _SPLIT_STRIDE + video_index * _VIDEO_STRIDE + object_index + 1


def video_rng(config: SyntheticWorldConfig, split: str, video_index: int) -> np.random.Generator:
    """The generator of one video, derived from ``config.seed`` (stable per split name)."""
    seq = np.random.SeedSequence(config.seed,
                                 spawn_key=(zlib.crc32(split.encode()), video_index))
    return np.random.default_rng(seq)


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------
def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), np.float32) * 255.0


def _hue_dist(a: float, b: float) -> float:
    d = abs(a - b) % 1.0
    return min(d, 1.0 - d)


class _Object:
    """One object's state (positions in pixels, pixel centres at +0.5)."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)

    def half_size(self) -> float:
        return 0.5 * self.base_size * math.exp(self.log_scale)

    def radius(self) -> float:
        return self.half_size() * self.extent


@dataclass
class TrackInfo:
    """Identity-level ground truth of one simulated object."""

    object_index: int
    category: str
    texture: str
    colors: tuple[tuple[int, int, int], tuple[int, int, int]]
    lookalike_of: int | None  # object_index of the copied object

    def appearance(self) -> dict:
        return {"shape": self.category, "texture": self.texture,
                "colors": [list(c) for c in self.colors]}


@dataclass
class RenderedObject:
    """An object with at least one visible pixel in a frame."""

    object_index: int
    category_index: int  # 0-based into config.categories
    mask: np.ndarray  # (H, W) bool visible mask
    box: tuple[int, int, int, int]  # tight xyxy box of the visible mask (pixel edges)
    visible_area: int
    full_area: int  # area of the whole unoccluded shape (also outside the image)
    annotated: bool

    @property
    def visibility(self) -> float:
        return self.visible_area / max(self.full_area, 1)


@dataclass
class SynthFrame:
    frame_index: int
    image: np.ndarray  # (H, W, 3) uint8 RGB
    objects: list[RenderedObject]

    @property
    def annotations(self) -> list[RenderedObject]:
        return [o for o in self.objects if o.annotated]


class VideoSimulator:
    """Simulates one video; iterate :meth:`frames`. ``tracks`` lists every object created."""

    def __init__(self, config: SyntheticWorldConfig, rng: np.random.Generator) -> None:
        self.cfg = config
        self.rng = rng
        self.W, self.H = config.width, config.height
        self.tracks: list[TrackInfo] = []
        self.alive: list[_Object] = []
        self._target = 0
        # Background: two low-resolution, low-saturation colour grids blended over time.
        self._bg = [self._bg_grid() for _ in range(2)]
        self._occluders = [self._make_occluder()
                           for _ in range(int(rng.integers(config.num_occluders[0],
                                                           config.num_occluders[1] + 1)))]

    # ---- scene elements -------------------------------------------------------------
    def _bg_grid(self) -> np.ndarray:
        rng = self.rng
        gh, gw = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        base_h, base_v = rng.random(), rng.uniform(0.35, 0.7)
        grid = np.empty((gh, gw, 3), np.float32)
        for i in range(gh):
            for j in range(gw):
                grid[i, j] = _hsv(base_h + rng.normal(0, 0.08), rng.uniform(0.05, 0.3),
                                  float(np.clip(base_v + rng.normal(0, 0.1), 0.25, 0.8)))
        return cv2.resize(grid, (self.W, self.H), interpolation=cv2.INTER_CUBIC)

    def _background(self, t: int) -> np.ndarray:
        w = 0.5 - 0.5 * math.cos(math.pi * t / max(self.cfg.frames_per_video, 1))
        return (1.0 - w) * self._bg[0] + w * self._bg[1]

    def _make_occluder(self) -> dict:
        rng, cfg = self.rng, self.cfg
        vertical = bool(rng.random() < 0.7)
        span = self.W if vertical else self.H
        width = float(rng.uniform(*cfg.occluder_width))
        width = min(width, 0.5 * span)
        return {
            "vertical": vertical,
            "pos": float(rng.uniform(0.1 * span, 0.9 * span - width)),
            "width": width,
            "vel": float(rng.uniform(-cfg.occluder_speed, cfg.occluder_speed)),
            "value": float(rng.uniform(95, 165)),
            "span": span,
        }

    def _occluder_layer(self) -> tuple[np.ndarray, np.ndarray]:
        occ = np.zeros((self.H, self.W), bool)
        col = np.zeros((self.H, self.W), np.float32)
        for o in self._occluders:
            a = int(round(o["pos"]))
            b = int(round(o["pos"] + o["width"]))
            a, b = max(a, 0), min(b, o["span"])
            if b <= a:
                continue
            prof = np.linspace(-1.0, 1.0, b - a, dtype=np.float32)
            shade = o["value"] * (1.0 - 0.25 * prof**2)  # cylinder-like shading
            if o["vertical"]:
                occ[:, a:b] = True
                col[:, a:b] = shade[None, :]
            else:
                occ[a:b, :] = True
                col[a:b, :] = shade[:, None]
        return occ, col

    # ---- objects ---------------------------------------------------------------------
    def _pick_colors(self, avoid_hue: float | None) -> tuple[np.ndarray, np.ndarray, float]:
        rng = self.rng
        others = [o.hue for o in self.alive]
        best_h, best_d = 0.0, -1.0
        for _ in range(24):
            h = float(rng.random())
            d = min([_hue_dist(h, x) for x in others] + [1.0])
            if avoid_hue is not None and _hue_dist(h, avoid_hue) < 0.17:
                d = -0.5 + _hue_dist(h, avoid_hue)  # strongly prefer distinct from original
            if d > best_d:
                best_h, best_d = h, d
            if d >= 0.08:
                break
        h2 = best_h + rng.uniform(0.3, 0.7)
        c1 = _hsv(best_h, rng.uniform(0.75, 1.0), rng.uniform(0.8, 1.0))
        if rng.random() < 0.3:  # dark variant of the second colour
            c2 = _hsv(h2, rng.uniform(0.7, 1.0), rng.uniform(0.3, 0.5))
        else:
            c2 = _hsv(h2, rng.uniform(0.7, 1.0), rng.uniform(0.75, 1.0))
        return c1, c2, best_h

    def _spawn(self, t: int, inside: bool) -> None:
        rng, cfg = self.rng, self.cfg
        W, H = self.W, self.H
        k = len(self.tracks)
        visible_alive = [o for o in self.alive if self._inside(o)]
        src = None
        if not inside and visible_alive and rng.random() < cfg.lookalike_prob:
            src = visible_alive[int(rng.integers(len(visible_alive)))]
        if src is not None:
            cat_idx, shape, texture = src.cat_idx, src.shape, src.texture
            aspect, base_size = src.aspect, src.base_size * rng.uniform(0.9, 1.1)
            tex = dict(src.tex)
        else:
            cat_idx = int(rng.integers(len(cfg.categories)))
            shape = cfg.categories[cat_idx]
            texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
            lo, hi = (0.8, 1.25) if shape == "triangle" else (0.65, 1.55)
            aspect = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            base_size = float(rng.uniform(*cfg.object_size))
            tex = {"angle": float(rng.uniform(0, math.pi)),
                   "period": float(rng.uniform(0.5, 0.9)),
                   "phase": float(rng.random()),
                   "dot_radius": float(rng.uniform(0.25, 0.35))}
        c1, c2, hue = self._pick_colors(None if src is None else src.hue)
        ax, ay = math.sqrt(aspect), 1.0 / math.sqrt(aspect)
        extent = {"disc": max(ax, ay), "box": 0.886 * math.hypot(ax, ay),
                  "triangle": 1.4 * max(ax, ay)}[shape]
        lo_s, hi_s = cfg.scale_range
        obj = _Object(
            k=k, cat_idx=cat_idx, shape=shape, texture=texture, tex=tex, aspect=aspect,
            ax=ax, ay=ay, extent=extent, base_size=base_size, c1=c1, c2=c2, hue=hue,
            theta=float(rng.uniform(0, 2 * math.pi)),
            omega=float(rng.normal(0, cfg.rotation_speed)),
            log_scale=float(rng.uniform(math.log(lo_s), math.log(hi_s))), dlog=0.0,
            depth=float(rng.random()), lookalike_of=None if src is None else src.k,
            pos=np.zeros(2), vel=np.zeros(2), born=t,
        )
        speed = float(rng.uniform(*cfg.speed))
        if inside:
            obj.pos = np.array([rng.uniform(0.15, 0.85) * W, rng.uniform(0.15, 0.85) * H])
            a = rng.uniform(0, 2 * math.pi)
            obj.vel = speed * np.array([math.cos(a), math.sin(a)])
        else:
            partner = src
            if partner is None and visible_alive and rng.random() < cfg.crossing_prob:
                partner = visible_alive[int(rng.integers(len(visible_alive)))]
            if partner is not None:
                T = float(rng.uniform(3, 8))
                a = rng.uniform(0, 2 * math.pi)
                u = np.array([math.cos(a), math.sin(a)])
                for _ in range(3):  # fixed point: reach the partner's future position at T
                    target = partner.pos + partner.vel * T
                    target = np.clip(target, [0.1 * W, 0.1 * H], [0.9 * W, 0.9 * H])
                    d = self._exit_distance(target, -u) + obj.radius() * rng.uniform(0.3, 1.0)
                    T = float(np.clip(d / speed, 2.0, 12.0))
                speed = float(np.clip(d / T, cfg.speed[0], cfg.speed[1]))
            else:
                target = np.array([rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H])
                a = rng.uniform(0, 2 * math.pi)
                u = np.array([math.cos(a), math.sin(a)])
                d = self._exit_distance(target, -u) + obj.radius() * rng.uniform(0.3, 1.0)
            obj.pos = target - u * d
            obj.vel = u * speed
        self.alive.append(obj)
        self.tracks.append(TrackInfo(
            object_index=k, category=shape, texture=texture,
            colors=(tuple(int(round(x)) for x in c1), tuple(int(round(x)) for x in c2)),
            lookalike_of=obj.lookalike_of))

    def _exit_distance(self, p: np.ndarray, d: np.ndarray) -> float:
        """Distance from the inside point p along unit direction d to the image border."""
        ts = []
        for i, size in ((0, self.W), (1, self.H)):
            if d[i] > 1e-9:
                ts.append((size - p[i]) / d[i])
            elif d[i] < -1e-9:
                ts.append(-p[i] / d[i])
        return float(min(ts)) if ts else 0.0

    def _inside(self, o: _Object) -> bool:
        x, y = o.pos
        return 0 <= x < self.W and 0 <= y < self.H

    def _gone(self, o: _Object) -> bool:
        r = o.radius()
        x, y = o.pos
        outside = x + r < 0 or x - r > self.W or y + r < 0 or y - r > self.H
        away = float(np.dot(o.pos - [self.W / 2, self.H / 2], o.vel)) > 0
        return outside and away

    def _step(self) -> None:
        rng, cfg = self.rng, self.cfg
        lo, hi = cfg.speed
        lo_l, hi_l = math.log(cfg.scale_range[0]), math.log(cfg.scale_range[1])
        for o in self.alive:
            o.vel = o.vel + rng.normal(0.0, cfg.acceleration, 2)
            sp = float(np.hypot(*o.vel))
            lim = float(np.clip(sp, max(0.5 * lo, 0.5), 1.25 * hi))
            o.vel = o.vel * (lim / sp) if sp > 1e-9 else np.array([lim, 0.0])
            o.pos = o.pos + o.vel
            o.dlog = 0.85 * o.dlog + rng.normal(0.0, cfg.scale_drift)
            o.log_scale += o.dlog
            if o.log_scale < lo_l or o.log_scale > hi_l:
                o.log_scale = float(np.clip(o.log_scale, lo_l, hi_l))
                o.dlog = -0.5 * o.dlog
            o.theta += o.omega
        self.alive = [o for o in self.alive if not self._gone(o)]
        for oc in self._occluders:
            oc["pos"] += oc["vel"]
            if oc["pos"] < 0 or oc["pos"] + oc["width"] > oc["span"]:
                oc["vel"] = -oc["vel"]
                oc["pos"] = float(np.clip(oc["pos"], 0, oc["span"] - oc["width"]))

    # ---- rendering -------------------------------------------------------------------
    def _rasterise(self, o: _Object):
        """Shape mask on the object's (unclipped) pixel window + normalised coordinates."""
        L = o.half_size()
        R = L * o.extent
        cx, cy = float(o.pos[0]), float(o.pos[1])
        x0, x1 = int(math.floor(cx - R)), int(math.ceil(cx + R)) + 1
        y0, y1 = int(math.floor(cy - R)), int(math.ceil(cy + R)) + 1
        dx = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx)[None, :]
        dy = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy)[:, None]
        c, s = math.cos(o.theta), math.sin(o.theta)
        nu = (c * dx + s * dy) / (L * o.ax)
        nv = (-s * dx + c * dy) / (L * o.ay)
        if o.shape == "disc":
            m = nu * nu + nv * nv <= 1.0
        elif o.shape == "box":
            m = (np.abs(nu) <= 0.886) & (np.abs(nv) <= 0.886)
        else:  # equilateral triangle, circumradius 1.4, inradius 0.7
            m = nv >= -0.7
            m &= 0.8660254 * nu + 0.5 * nv <= 0.7
            m &= -0.8660254 * nu + 0.5 * nv <= 0.7
        return x0, y0, m, nu * o.ax, nv * o.ay

    @staticmethod
    def _texture(o: _Object, nu: np.ndarray, nv: np.ndarray) -> np.ndarray:
        """Colours (N, 3) of the pixels at normalised object coordinates nu, nv (1-D)."""
        tx = o.tex
        ca, sa = math.cos(tx["angle"]), math.sin(tx["angle"])
        a = nu * ca + nv * sa
        b = -nu * sa + nv * ca
        p, ph = tx["period"], tx["phase"]
        if o.texture == "gradient":
            w = np.clip(0.5 + 0.5 * a / max(o.extent, 1e-6), 0.0, 1.0)[:, None]
            return (1.0 - w) * o.c1 + w * o.c2
        if o.texture == "stripes":
            sel = np.mod(a / p + ph, 1.0) < 0.5
        elif o.texture == "checker":
            sel = (np.floor(a / p + ph) + np.floor(b / p + ph)) % 2 == 0
        else:  # dots
            fa = np.mod(a / p + ph, 1.0) - 0.5
            fb = np.mod(b / p + ph, 1.0) - 0.5
            sel = fa * fa + fb * fb < tx["dot_radius"] ** 2
        return np.where(sel[:, None], o.c2, o.c1)

    def _render(self, t: int) -> SynthFrame:
        W, H = self.W, self.H
        img = self._background(t)
        owner = np.full((H, W), -1, np.int32)
        windows = {}
        for idx, o in sorted(enumerate(self.alive), key=lambda io: -io[1].depth):
            x0, y0, m, nu, nv = self._rasterise(o)
            full = int(m.sum())
            ix0, iy0 = max(x0, 0), max(y0, 0)
            ix1, iy1 = min(x0 + m.shape[1], W), min(y0 + m.shape[0], H)
            if full == 0 or ix1 <= ix0 or iy1 <= iy0:
                continue
            sl = (slice(iy0 - y0, iy1 - y0), slice(ix0 - x0, ix1 - x0))
            sub = m[sl]
            if not sub.any():
                continue
            region = (slice(iy0, iy1), slice(ix0, ix1))
            img[region][sub] = self._texture(o, nu[sl][sub], nv[sl][sub])
            owner[region][sub] = idx
            windows[idx] = (region, full)
        occ, occ_col = self._occluder_layer()
        if occ.any():
            owner[occ] = -1
            img[occ] = occ_col[occ][:, None]
        if self.cfg.noise_std > 0:
            img += self.rng.standard_normal((H, W, 3), dtype=np.float32) * self.cfg.noise_std
        image = np.clip(np.rint(img), 0, 255).astype(np.uint8)

        objects = []
        for idx in sorted(windows, key=lambda i: self.alive[i].k):
            region, full = windows[idx]
            vis = owner[region] == idx
            area = int(vis.sum())
            if area == 0:
                continue
            rows = np.flatnonzero(vis.any(axis=1))
            cols = np.flatnonzero(vis.any(axis=0))
            oy, ox = region[0].start, region[1].start
            box = (ox + int(cols[0]), oy + int(rows[0]), ox + int(cols[-1]) + 1,
                   oy + int(rows[-1]) + 1)
            mask = np.zeros((H, W), bool)
            mask[region] = vis
            o = self.alive[idx]
            objects.append(RenderedObject(
                object_index=o.k, category_index=o.cat_idx, mask=mask, box=box,
                visible_area=area, full_area=full,
                annotated=area >= self.cfg.min_visibility * full))
        return SynthFrame(frame_index=t, image=image, objects=objects)

    # ---- main loop -------------------------------------------------------------------
    def frames(self) -> Iterator[SynthFrame]:
        cfg, rng = self.cfg, self.rng
        lo, hi = cfg.objects_per_frame
        self._target = int(rng.integers(lo, hi + 1))
        for _ in range(self._target):
            self._spawn(0, inside=True)
        for t in range(cfg.frames_per_video):
            if t > 0:
                self._step()
                if rng.random() < 0.05:
                    self._target = int(rng.integers(lo, hi + 1))
                present = sum(1 for o in self.alive if self._inside(o) or t - o.born <= 2)
                for _ in range(self._target - present):
                    if rng.random() < cfg.spawn_prob:
                        self._spawn(t, inside=False)
            yield self._render(t)


def simulate_video(config: SyntheticWorldConfig, split: str, video_index: int
                   ) -> tuple[VideoSimulator, Iterator[SynthFrame]]:
    """In-memory simulation of one video (no files): ``(simulator, frame iterator)``."""
    sim = VideoSimulator(config, video_rng(config, split, video_index))
    return sim, sim.frames()


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------
def _encode_masks(masks: list[np.ndarray]) -> list[str]:
    if not masks:
        return []
    stack = np.asfortranarray(np.stack(masks, axis=-1).astype(np.uint8))
    return [r["counts"].decode("ascii") for r in mask_utils.encode(stack)]


def _seqinfo(config: SyntheticWorldConfig, split: str, name: str) -> str:
    return (
        "; TrackZoo synthetic world. Frames are NOT in img1/: imDir is relative to this\n"
        "; sequence directory, and image files are named by the 0-based frame index,\n"
        "; so MOT frame f (1-based) is <imDir>/{f-1:06d}.jpg. Boxes in gt/gt.txt use\n"
        "; 0-based pixel-edge coordinates, identical to the COCO-video JSON bbox.\n"
        "[Sequence]\n"
        f"name={name}\n"
        f"imDir=../../../images/{split}/{name}\n"
        f"frameRate={config.frame_rate}\n"
        f"seqLength={config.frames_per_video}\n"
        f"imWidth={config.width}\n"
        f"imHeight={config.height}\n"
        "imExt=.jpg\n"
        "imFirstIndex=0\n"
    )


def _generate_split(config: SyntheticWorldConfig, root: Path, split: str,
                    pbar: tqdm) -> dict:
    W, H = config.width, config.height
    info = {
        "description": "TrackZoo synthetic video world",
        "format_version": FORMAT_VERSION,
        "split": split,
        "seed": config.seed,
        "image_root": "images",
        "file_name_note": "images[].file_name is relative to <root>/images",
    }
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(config.categories)]
    videos, images, annotations, tracks = [], [], [], []
    for s in ("images", "mot", "mots"):
        shutil.rmtree(root / s / split, ignore_errors=True)
    params = [int(cv2.IMWRITE_JPEG_QUALITY), int(config.jpeg_quality)]
    for v in range(config.num_videos[split]):
        name = video_name(split, v)
        vid = v + 1
        videos.append({"id": vid, "name": name, "width": W, "height": H,
                       "length": config.frames_per_video})
        img_dir = root / "images" / split / name
        img_dir.mkdir(parents=True, exist_ok=True)
        mot_dir = root / "mot" / split / name
        (mot_dir / "gt").mkdir(parents=True, exist_ok=True)
        (root / "mots" / split).mkdir(parents=True, exist_ok=True)
        gt_rows, mots_rows = [], []
        first_seen: dict[int, int] = {}  # object index -> MOTS instance number
        sim, frames = simulate_video(config, split, v)
        for fr in frames:
            ok, buf = cv2.imencode(".jpg", fr.image[:, :, ::-1], params)
            if not ok:
                raise RuntimeError(f"JPEG encoding failed for {name} frame {fr.frame_index}")
            (img_dir / f"{fr.frame_index:06d}.jpg").write_bytes(buf.tobytes())
            image_id = len(images) + 1
            images.append({"id": image_id, "video_id": vid, "frame_index": fr.frame_index,
                           "file_name": f"{split}/{name}/{fr.frame_index:06d}.jpg",
                           "width": W, "height": H})
            anns = fr.annotations
            counts = _encode_masks([a.mask for a in anns])
            for a, rle in zip(anns, counts):
                tid = track_id_for(config, split, v, a.object_index)
                cid = a.category_index + 1
                x1, y1, x2, y2 = a.box
                vis = round(a.visibility, 4)
                annotations.append({
                    "id": len(annotations) + 1, "image_id": image_id, "video_id": vid,
                    "track_id": tid, "category_id": cid, "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": a.visible_area, "iscrowd": 0, "visibility": vis,
                    "segmentation": {"size": [H, W], "counts": rle},
                })
                gt_rows.append(f"{fr.frame_index + 1},{tid},{x1},{y1},{x2 - x1},{y2 - y1},"
                               f"1,{cid},{vis:.4f}")
                inst = first_seen.setdefault(a.object_index, len(first_seen) + 1)
                if inst > 999:
                    raise ValueError(f"{name}: more than 999 annotated tracks; MOTS txt "
                                     "object ids (class * 1000 + instance) would clash")
                mots_rows.append(f"{fr.frame_index} {cid * 1000 + inst} {cid} {H} {W} {rle}")
            pbar.update(1)
        for k in first_seen:
            tr = sim.tracks[k]
            app = tr.appearance()
            app["lookalike_of"] = (None if tr.lookalike_of is None
                                   else track_id_for(config, split, v, tr.lookalike_of))
            tracks.append({"id": track_id_for(config, split, v, k),
                           "category_id": config.categories.index(tr.category) + 1,
                           "video_id": vid, "appearance": app})
        (mot_dir / "gt" / "gt.txt").write_text("".join(r + "\n" for r in gt_rows))
        (mot_dir / "seqinfo.ini").write_text(_seqinfo(config, split, name))
        (root / "mots" / split / f"{name}.txt").write_text("".join(r + "\n" for r in mots_rows))
    tracks.sort(key=lambda t: t["id"])
    coco = {"info": info, "categories": categories, "videos": videos, "images": images,
            "annotations": annotations, "tracks": tracks}
    ann_dir = root / "annotations"
    ann_dir.mkdir(parents=True, exist_ok=True)
    tmp = ann_dir / f".{split}.json.tmp"
    tmp.write_text(json.dumps(coco, separators=(",", ":")))
    tmp.replace(ann_dir / f"{split}.json")
    return {"videos": len(videos), "frames": len(images), "annotations": len(annotations),
            "tracks": len(tracks)}


def _world_record(config: SyntheticWorldConfig, splits: Sequence[str], stats: dict) -> dict:
    return {"format_version": FORMAT_VERSION, "generator": "datamodules.synthetic",
            "config": config.to_dict(), "splits": list(splits), "stats": stats}


def generate_world(config: SyntheticWorldConfig, root: Path | str,
                   splits: Sequence[str] | None = None, progress: bool = True) -> Path:
    """Generate (overwrite) the world's files under ``root``; returns ``root``.

    ``splits`` defaults to every split of ``config.num_videos``. ``world.json`` is removed
    first and written last, so it marks a complete dataset.
    """
    root = Path(root)
    splits = tuple(config.splits if splits is None else splits)
    for s in splits:
        if s not in config.num_videos:
            raise ValueError(f"split {s!r} not in config.num_videos {config.num_videos}")
    root.mkdir(parents=True, exist_ok=True)
    (root / "world.json").unlink(missing_ok=True)
    total = sum(config.num_videos[s] for s in splits) * config.frames_per_video
    stats = {}
    with tqdm(total=total, desc=f"synthetic world {root}", unit="frame",
              disable=not progress) as pbar:
        for s in splits:
            stats[s] = _generate_split(config, root, s, pbar)
    tmp = root / ".world.json.tmp"
    tmp.write_text(json.dumps(_world_record(config, splits, stats), indent=2) + "\n")
    tmp.replace(root / "world.json")
    return root


def world_is_current(config: SyntheticWorldConfig, root: Path | str) -> bool:
    """True if ``<root>/world.json`` records this config, or one that only adds splits
    after this config's (a world built with ``{train, val, tune}`` serves
    ``{train, val}``: each split is drawn from its own name and its rank, so the files of
    the shared splits are the same byte for byte)."""
    path = Path(root) / "world.json"
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    recorded = rec.get("config")
    if (rec.get("format_version") != FORMAT_VERSION or not isinstance(recorded, dict)
            or not isinstance(recorded.get("num_videos"), dict)):
        return False  # a damaged record: rebuild
    wanted = config.to_dict()
    wanted_videos = list(wanted["num_videos"].items())
    recorded_videos = list(recorded["num_videos"].items())
    return (recorded == {**wanted, "num_videos": recorded["num_videos"]}
            and recorded_videos[:len(wanted_videos)] == wanted_videos
            and set(rec.get("splits", [])) >= set(config.splits))


def ensure_world(config: SyntheticWorldConfig, root: Path | str, progress: bool = True) -> Path:
    """Build the world under ``root`` unless it is current (:func:`world_is_current`).

    A missing / different ``world.json`` triggers a rebuild from scratch (the generated
    ``images``, ``annotations``, ``mot`` and ``mots`` folders are deleted first; other
    files under ``root`` are left alone).
    """
    root = Path(root)
    if world_is_current(config, root):
        return root
    (root / "world.json").unlink(missing_ok=True)
    for sub in ("images", "annotations", "mot", "mots"):
        shutil.rmtree(root / sub, ignore_errors=True)
    return generate_world(config, root, progress=progress)


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m datamodules.synthetic",
                                description="Generate the TrackZoo synthetic video world.")
    d = SyntheticWorldConfig()
    p.add_argument("--root", type=Path, default=Path("data/synthetic"))
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--train-videos", type=int, default=d.num_videos["train"])
    p.add_argument("--val-videos", type=int, default=d.num_videos["val"])
    p.add_argument("--tune-videos", type=int, default=d.num_videos["tune"],
                   help="videos of the tune split (0 = no tune split)")
    p.add_argument("--frames", type=int, default=d.frames_per_video,
                   help="frames per video")
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--height", type=int, default=d.height)
    p.add_argument("--force", action="store_true",
                   help="regenerate even if world.json records the same config")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    cfg = SyntheticWorldConfig(seed=a.seed, width=a.width, height=a.height,
                               num_videos={"train": a.train_videos, "val": a.val_videos,
                                           **({"tune": a.tune_videos} if a.tune_videos else {})},
                               frames_per_video=a.frames)
    if a.force:
        generate_world(cfg, a.root, progress=not a.quiet)
    elif world_is_current(cfg, a.root):
        print(f"{a.root}: up to date (world.json records this config); use --force to rebuild")
        return 0
    else:
        ensure_world(cfg, a.root, progress=not a.quiet)
    stats = json.loads((a.root / "world.json").read_text())["stats"]
    for split, st in stats.items():
        print(f"{split}: " + ", ".join(f"{v} {k}" for k, v in st.items()))
    print(f"wrote {a.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
