"""Save and load a model: ``MODEL.joblib`` (the fitted pipeline only) beside ``MODEL.json`` (its metadata).

Loading checks, before anything is unpickled, that the metadata is there and readable, that the pickle's
sha256 matches the one recorded at save time, and that it was made by this scikit-learn version (and the
same NumPy major version); after unpickling, that it is the expected pipeline of built-in steps with the
expected labels. Any failure raises :class:`classifier.errors.ModelError` with a message saying how to retrain.

The checksum catches corruption, a half-copied file or an accidental swap; it is no defence against someone
who can write both files. A pickle can run code when loaded: load models only from a path you configured and
trust, never from an upload.
"""
from __future__ import annotations

import hashlib
import json
import logging
import platform
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy
import scipy
import sklearn
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .data import LABELS
from .errors import ModelError
from .model import FORMAT, ScoringModel

LOGGER = logging.getLogger(__name__)

#: The steps a model file must contain, in order, and nothing else.
EXPECTED_STEPS = (("counts", CountVectorizer), ("tfidf", TfidfTransformer), ("clf", LogisticRegression))


def library_versions() -> dict[str, str]:
    """The versions that decide whether a pickle loads and predicts the same."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def metadata_path(path: str | Path) -> Path:
    """Where the metadata of the model at ``path`` lives: the same name with ``.json``."""
    return Path(path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(model: ScoringModel, path: str | Path) -> Path:
    """Write the pipeline to ``path`` (joblib) and its metadata to ``path.with_suffix('.json')``.

    Both are written to temporary names first and renamed into place, the pickle first, so a reader never
    sees new metadata beside an old pickle. Updates ``model.metadata`` with what was written. Returns the
    metadata path.
    """
    path = Path(path)
    if path.suffix == ".json":
        raise ValueError("the model path must not end in .json: that name is taken by its metadata")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    # One view: the pipeline itself, as 0.1.0 wrote it. Two views: {"neutral": pipeline, "raw": pipeline}.
    joblib.dump(model.pipeline if model.raw is None else {"neutral": model.pipeline, "raw": model.raw},
                temporary, compress=3)
    metadata = dict(model.metadata)
    metadata.update(
        format=FORMAT,
        labels=list(LABELS),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=library_versions(),
        pipeline=[[name, type(step).__module__ + "." + type(step).__name__] for name, step in model.pipeline.steps],
        model_file={"name": path.name, "sha256": file_sha256(temporary), "bytes": temporary.stat().st_size},
    )
    meta_path = metadata_path(path)
    meta_temporary = meta_path.with_name(meta_path.name + ".tmp")
    meta_temporary.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)
    meta_temporary.replace(meta_path)
    model.metadata = metadata
    return meta_path


def read_metadata(path: str | Path) -> dict:
    """The metadata of the model at ``path``, or :class:`ModelError` if it is missing or unreadable."""
    meta_path = metadata_path(path)
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"Model metadata {meta_path} is missing, so {path} cannot be verified.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"Model metadata {meta_path} is unreadable ({exc}).") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"Model metadata {meta_path} is not a JSON object.")
    return metadata


def check_versions(metadata: dict, path: str | Path) -> None:
    """Refuse a model made by another scikit-learn version or NumPy major version; log other differences."""
    saved = metadata.get("versions") or {}
    current = library_versions()
    if saved.get("scikit-learn") != current["scikit-learn"]:
        raise ModelError(
            f"Model {path} was made with scikit-learn {saved.get('scikit-learn', 'unknown')}, this is "
            f"scikit-learn {current['scikit-learn']}; a pickle is only reliable with the version that wrote it."
        )
    if str(saved.get("numpy", "")).split(".")[0] != current["numpy"].split(".")[0]:
        raise ModelError(
            f"Model {path} was made with NumPy {saved.get('numpy', 'unknown')}, this is NumPy {current['numpy']}."
        )
    for library in ("python", "numpy", "scipy", "joblib"):
        if saved.get(library) != current[library]:
            LOGGER.warning("model %s was made with %s %s, this is %s", path, library, saved.get(library),
                           current[library])


def load(path: str | Path) -> ScoringModel:
    """Verify and load the model saved at ``path``; :class:`ModelError` if anything is off."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"No model file at {path}.")
    metadata = read_metadata(path)
    if metadata.get("format") != FORMAT:
        raise ModelError(f"Model {path} has format {metadata.get('format')!r}, this code reads {FORMAT!r}.")
    if metadata.get("labels") != list(LABELS):
        raise ModelError(f"Model {path} has labels {metadata.get('labels')!r}, expected {list(LABELS)!r}.")
    check_versions(metadata, path)
    expected = (metadata.get("model_file") or {}).get("sha256")
    actual = file_sha256(path)
    if not expected or actual != expected:
        raise ModelError(
            f"Model {path} does not match its metadata (sha256 {actual[:12]}..., expected "
            f"{str(expected)[:12]}...): the file was changed or replaced after it was saved."
        )
    try:
        pipeline = joblib.load(path)
    except Exception as exc:  # an unpicklable file: report it as a model problem, whatever the cause
        raise ModelError(f"Model {path} could not be unpickled ({type(exc).__name__}: {exc}).") from exc
    raw = None
    if type(pipeline) is dict and set(pipeline) == {"neutral", "raw"}:
        pipeline, raw = pipeline["neutral"], pipeline["raw"]
        check_pipeline(raw, path)
    check_pipeline(pipeline, path)
    return ScoringModel(pipeline=pipeline, metadata=metadata, raw=raw)


def check_pipeline(pipeline: object, path: str | Path) -> None:
    """The unpickled object must be exactly the fitted pipeline newstilt writes."""
    if type(pipeline) is not Pipeline:
        raise ModelError(f"Model {path} holds a {type(pipeline).__name__}, not a scikit-learn Pipeline.")
    steps = [(name, type(step)) for name, step in pipeline.steps]
    if steps != list(EXPECTED_STEPS):
        raise ModelError(f"Model {path} has unexpected steps {[(n, t.__name__) for n, t in steps]}.")
    classes = list(getattr(pipeline.named_steps["clf"], "classes_", []))
    if sorted(classes) != sorted(LABELS):
        raise ModelError(f"Model {path} predicts {classes}, expected {list(LABELS)}.")


__all__ = ["save", "load", "read_metadata", "library_versions", "metadata_path", "file_sha256"]
