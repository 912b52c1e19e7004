"""Tests of autograder/checks/, one file per check module (a package: tests/test_kd.py is helpers.kd's)."""
