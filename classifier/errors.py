"""The classifier's exceptions. Kept free of ``server`` so the scorer stays a plain library.

The service maps :class:`ModelError` to its own ``model_unavailable`` answer at the edge; the ``status`` and
``code`` attributes mirror ``server.errors.ModelError`` so a generic handler can use them directly.
"""
from __future__ import annotations

RETRAIN_HINT = "Retrain with `newstilt train --data FILE.jsonl[.gz]` or `newstilt train --from-store`."


class ModelError(RuntimeError):
    """A scoring model that is missing, tampered with, or made by other library versions."""

    status = 503
    code = "model_unavailable"

    def __init__(self, message: str, *, hint: bool = True) -> None:
        super().__init__(f"{message} {RETRAIN_HINT}" if hint else message)


class TrainingDataError(ValueError):
    """Training or evaluation records that cannot be used (no valid record, a single class, too few outlets)."""
