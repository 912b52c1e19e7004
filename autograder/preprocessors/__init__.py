"""The course's nbgrader preprocessors, one module each (named after what the preprocessor does)."""
