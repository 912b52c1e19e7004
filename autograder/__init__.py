"""The week-6 autograder: nbgrader configured, hidden-test probes, judgment outside the kernel,
the grading driver and the class report.  See ``python -m autograder --help``."""
