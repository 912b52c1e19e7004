"""Training the course's students (``python -m helpers train``).

The only part of ``helpers`` that imports transformers; the analysis modules
never import this package.  See README.md in this folder for the TA commands.
"""
from .config import GRID, TrainConfig, grid_name

__all__ = ["TrainConfig", "GRID", "grid_name"]
