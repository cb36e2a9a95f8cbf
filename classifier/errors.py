"""The scorer's exceptions: the ones of newstilt's single exception tree (``newstilt.errors``)."""
from __future__ import annotations

from ..errors import RETRAIN_HINT, ModelError, TrainingDataError

__all__ = ["RETRAIN_HINT", "ModelError", "TrainingDataError"]
