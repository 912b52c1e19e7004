"""Week 6 course helpers."""
