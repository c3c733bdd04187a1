"""Scoring cleaned texts against reference texts: shared by the tests and the benchmarks, used by neither layer of the project."""
