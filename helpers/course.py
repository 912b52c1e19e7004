"""The week's course facts, defined once.

Every module that needs the class count, the tiers, the T_d x alpha grid, the
artifact names, the seed of the synthetic data or the name of an environment
variable imports it from here, so a fact changes in one place.  Values follow
the course notes: 113 intent classes split by training frequency into 20 head,
40 mid and 53 tail classes; six grid students (T_d in {1, 4, 8}, alpha in
{0.7, 0.9}) next to the vanilla and the distilled student.
"""
from __future__ import annotations

__all__ = [
    "WEEK", "WEEK1_BASELINE_F1", "N_CLASSES", "TIERS", "TIER_CLASS_COUNTS", "SEED",
    "GRID_TEMPERATURES", "GRID_ALPHAS", "GRID", "grid_name", "GRID_NAMES",
    "TEACHER_NAMES", "STUDENT_NAMES", "ARTIFACT_NAMES", "ENVIRONMENT",
    "SOURCE_ENV", "SOURCE_RESOLVED_ENV", "CACHE_ENV", "MANIFEST_ENV",
]

WEEK = 6
N_CLASSES = 113
TIERS = ("head", "mid", "tail")
TIER_CLASS_COUNTS = {"head": 20, "mid": 40, "tail": 53}  # by training-frequency rank
WEEK1_BASELINE_F1 = 0.209  # week 1's macro F1 on this task: the data-ceiling comparison
SEED = 6  # the synthetic data's default seed (week 6)

GRID_TEMPERATURES = (1, 4, 8)
GRID_ALPHAS = (0.7, 0.9)
GRID = tuple((t, a) for t in GRID_TEMPERATURES for a in GRID_ALPHAS)


def grid_name(T_d: float, alpha: float) -> str:
    """The artifact name of one grid cell.

    Parameters
    ----------
    T_d : float
        Distillation temperature (a whole number prints without a decimal point).
    alpha : float
        Weight of the soft (teacher) term, in [0, 1].

    Returns
    -------
    str
        The manifest entry name of that cell.

    Examples
    --------
    >>> grid_name(4, 0.7)
    'grid_Td4_a70'
    """
    t = int(T_d) if float(T_d).is_integer() else T_d
    return f"grid_Td{t}_a{int(round(alpha * 100))}"


GRID_NAMES = tuple(grid_name(t, a) for t, a in GRID)
TEACHER_NAMES = ("teacher_val", "teacher_train_test")
STUDENT_NAMES = ("vanilla", "distilled")
ARTIFACT_NAMES = (*TEACHER_NAMES, *STUDENT_NAMES, *GRID_NAMES)

# Environment variables the course reads (the README lists them too).
SOURCE_ENV = "COURSE_DATA_SOURCE"
SOURCE_RESOLVED_ENV = "COURSE_SOURCE_RESOLVED"
CACHE_ENV = "COURSE_CACHE"
MANIFEST_ENV = "COURSE_MANIFEST"

ENVIRONMENT = {
    SOURCE_ENV: "force the artifact source: hub, synthetic or auto (default auto)",
    SOURCE_RESOLVED_ENV: "set by setup(): the source this session resolved to, read by later cells",
    CACHE_ENV: "the course cache (synthetic copy, verified downloads, quarantine); default ~/.cache/ecbs-week6",
    MANIFEST_ENV: "another data_manifest.yaml (default: the checkout's, else the one inside the package)",
}
