"""Tests of autograder/preprocessors/, one file per preprocessor module."""
