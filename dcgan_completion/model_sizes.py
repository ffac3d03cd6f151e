"""Which model completes each input, by its size (issue 24, "sharp at photo resolution"),
shared by every command that completes faces in photos (dcgan-complete, dcgan-evaluate,
dcgan-demo; the web page applies the same rule to one photo at a time):

    sources = bundled_sources(network=False)                 # {64: None, 128: path}
    models = SizedModels.of(sources, load, images=len(paths))    # one candidate: loaded now
    spec_of = spec_maker(lambda size: masks.MaskSpec.create("center", size))
    items, failed = find_sized_faces(paths, models.sizes, spec_of, aligner)
    groups = by_size(items)                                   # {64: [...], 128: [...]}
    log_choice(groups, photo=True)
    models.load_for(groups)                                   # only the sides some face needs
    for size, group in groups.items(): ... models[size] ...

Each face is found once, at the smallest side, measured (photos.face_side), given the
model its size picks (photos.choose_model_size: the smallest at least as large as the
face, else the largest) and, when that is another side, aligned again from the landmarks
already found (photos.at_size). Aligned images are picked for by their side alike.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Callable

import numpy as np

from . import images, inputs, masks, photos

log = logging.getLogger(__name__)


class ModelSizeError(ValueError):
    """A model size was asked for that no installed bundled model has."""
    setting = "model_size"


def bundled_sources(*, network: bool = False, size: int | None = None) -> dict[int, str | None]:
    """{image side: source} of the bundled DCGANs (``network``: completion networks) to
    choose from, smallest first; the default one's source is None (what load_model(None)
    and load_completion_net(None) load), and with none installed {the default side: None}
    (loading it then says what is missing). ``size``: that side only, ModelSizeError
    when no bundled model of that side is installed."""
    from .checkpoints import BUNDLED_WEIGHTS, DEFAULT_MODEL_SIZE, bundled_models
    from .completion_net.weights import BUNDLED_NETWORK, bundled_networks
    installed = bundled_networks() if network else bundled_models()
    default = BUNDLED_NETWORK if network else BUNDLED_WEIGHTS
    if size is not None:
        if size not in installed:
            what = "completion network" if network else "face model"
            raise ModelSizeError(f"no bundled {size}-px {what} is installed (installed: "
                                 f"{', '.join(map(str, installed)) or 'none'})")
        installed = {size: installed[size]}
    sources = {side: None if path == default else path for side, path in installed.items()}
    return sources or {DEFAULT_MODEL_SIZE: None}


def check_size(size: int, wanted: int | None, where: str) -> None:
    """ModelSizeError when a side ``wanted`` was asked for (None: any) and the model in
    ``where`` (a model of one's own, or the bundled weights) makes ``size``-px images."""
    if wanted is not None and wanted != size:
        raise ModelSizeError(f"the model in {where} makes {size}x{size} images")


# --- the inputs, each at the side of the model that completes it ---------------------------

@dataclasses.dataclass
class SizedInput:
    """An input to complete, read and masked at the side of the model that completes it."""
    path: str
    size: int                          # the model's image side
    pixels: np.ndarray                 # uint8 (size, size, C)
    mask: np.ndarray                   # (size, size, 1), 1 = known
    face: photos.PhotoFace | None = None   # for a photo: its face, aligned at ``size``
    side: float | None = None          # the face's own size in the photo (or the image's side)


def spec_maker(make: Callable[[int], masks.MaskSpec]):
    """spec_of(size) -> (masks.MaskSpec, its reader) of ``make(size)``, each made (and its
    reader opened) once per size; masks.MaskError where ``make`` raises it."""
    made = {}

    def spec_of(size: int):
        if size not in made:
            spec = make(size)
            made[size] = (spec, spec.reader())
        return made[size]
    return spec_of


def sized_faces(faces: list[photos.PhotoFace], sizes, spec_of, first_index: int = 0
                ) -> tuple[list[SizedInput], dict[str, str]]:
    """(a SizedInput of each face of ``faces`` at the side of ``sizes`` its size picks,
    {path: reason} of those whose mask does not fit that side). A face picked for another
    side than it was aligned at is aligned again from its landmarks, with spec_of(side)'s
    mask for its place in the run (``first_index`` + its index in ``faces``); the others are
    kept as they are."""
    items, failed = [], {}
    for i, face in enumerate(faces):
        side = photos.face_side(face.face)
        size = photos.choose_model_size(side, sizes)
        try:
            if size != face.face.image.shape[0]:
                face = photos.at_size(face, *spec_of(size), first_index + i)
        except masks.MaskError as e:
            failed[face.path] = str(e)
            continue
        items.append(SizedInput(face.path, size, face.face.image, face.mask, face, side))
    return items, failed


def find_sized_faces(paths: list[str], sizes, spec_of, aligner, first_index: int = 0
                     ) -> tuple[list[SizedInput], dict[str, str]]:
    """(the SizedInputs of the photos of ``paths`` with a face, {path: reason} of the
    others): each face found once, at the smallest of ``sizes`` (photos.find_faces), then
    sized_faces. ``first_index``: the run's index of the first face (a shard's offset)."""
    spec, reader = spec_of(min(sizes))
    faces, failed = photos.find_faces(paths, spec, aligner, reader, first_index=first_index)
    items, bad = sized_faces(faces, sizes, spec_of, first_index)
    failed.update(bad)
    return items, failed


def sized_images(paths: list[str], sizes, spec_of, channels: int, *, strict: bool = False,
                 first_index: int = 0) -> tuple[list[SizedInput], dict[str, str]]:
    """(the SizedInputs of the aligned images of ``paths``, {path: reason} of those that
    cannot be read or masked): with several ``sizes`` each image's side picks its model;
    each is read at that side (inputs.read_sized: resized, or refused with ``strict``)."""
    items, failed = [], {}
    for path in paths:
        try:
            side = None if len(sizes) == 1 else \
                max(images.load_image(path, channels=channels).shape[:2])
            size = min(sizes) if side is None else photos.choose_model_size(side, sizes)
            spec, reader = spec_of(size)
            x = inputs.read_sized(path, size, channels, strict)
            mask = spec.for_image(path, first_index + len(items), reader=reader)
        except (images.ImageReadError, masks.MaskError) as e:
            failed[path] = str(e)
            continue
        items.append(SizedInput(path, size, x, mask, None, side))
    return items, failed


def by_size(items: list[SizedInput]) -> dict[int, list[SizedInput]]:
    """The items grouped by model side, the smaller first, each group in input order."""
    groups = {}
    for item in items:
        groups.setdefault(item.size, []).append(item)
    return dict(sorted(groups.items()))


def face_range(group: list[SizedInput]) -> tuple[float, float] | None:
    """(smallest, largest) own size of the group's faces (or images), None when unknown."""
    sides = [item.side for item in group if item.side is not None]
    return (min(sides), max(sides)) if sides else None


def log_choice(groups: dict[int, list[SizedInput]], photo: bool) -> None:
    """One line per model side (which inputs it completes), one per input at debug level."""
    what = "face" if photo else "image"
    for size, group in groups.items():
        sides = face_range(group)
        of = f": {what}s of {sides[0]:.0f}-{sides[1]:.0f} px" if sides else ""
        log.info("%d %s at %d px%s", len(group), "photo(s)" if photo else "image(s)", size, of)
        for item in group:
            if item.side is not None:
                log.debug("%s: %s of %.0f px -> the %d-px model", item.path, what, item.side, size)


# --- the models, each loaded once and only when some input needs it ------------------------

@dataclasses.dataclass
class SizedModels:
    """The models of a run by image side: ``sources`` ({side: what ``load`` takes}) to
    choose from, each loaded once by ``load(source, images)`` -> (its side, the model), for
    a job of ``images`` inputs."""
    sources: dict
    load: Callable
    loaded: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def one(cls, source, load, images: int | None = None) -> "SizedModels":
        """The one model ``source`` (e.g. a checkpoint of one's own), loaded now: its side
        is known only then, and a bad one is refused before any input is read."""
        size, model = load(source, images)
        return cls({size: source}, load, {size: model})

    @classmethod
    def of(cls, sources: dict, load, images: int | None = None) -> "SizedModels":
        """The candidates ``sources`` ({side: source}): the only one loaded now (as one()),
        several when load_for needs them."""
        if len(sources) == 1:
            return cls.one(next(iter(sources.values())), load, images)
        return cls(dict(sorted(sources.items())), load)

    @property
    def sizes(self) -> list[int]:
        return sorted(self.sources)

    def load_for(self, groups: dict[int, list], per_input: int = 1) -> None:
        """Load the model of each side that ``groups`` ({side: inputs}) has, not yet loaded,
        for a job of ``per_input`` completions per input."""
        for size, group in groups.items():
            if size not in self.loaded:
                loaded_size, self.loaded[size] = self.load(self.sources[size],
                                                           len(group) * per_input)
                if loaded_size != size:
                    raise ValueError(f"the {size}-px model {self.sources[size]} makes "
                                     f"{loaded_size}x{loaded_size} images")

    def __getitem__(self, size: int):
        return self.loaded[size]
