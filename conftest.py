"""Hypothesis profiles for the project's own tests: `ci` is fixed-seed and is picked when CI is set."""

import os

from hypothesis import Verbosity, settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("debug", max_examples=10, deadline=None, verbosity=Verbosity.debug)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
