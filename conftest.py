"""Hypothesis profiles for the project's own tests: `ci` is fixed-seed and picked when CI is set."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("debug", max_examples=10, deadline=None, verbosity=3)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Generated bodies are large by design; the health check on data size would only add noise.
settings.register_profile("ci-large", parent=settings.get_profile("ci"), suppress_health_check=[HealthCheck.too_slow])
