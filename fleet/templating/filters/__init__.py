"""What templates can call besides Jinja2's own: Ansible's filters and tests, and lookups.

- :mod:`~fleet.templating.filters.core`: types, JSON/YAML, regex, base64, paths, hashing;
  :func:`install` registers every filter and test on an environment.
- :mod:`~fleet.templating.filters.data`: data-structure filters (combine, flatten, zip, ...).
- :mod:`~fleet.templating.filters.tests`: Jinja2 tests (``is changed``, ``is version``, ...).
- :mod:`~fleet.templating.filters.lookups`: ``lookup()``/``query()`` (env, file, ...).
"""

from fleet.templating.filters.core import FILTERS, install, to_bool
from fleet.templating.filters.extra import password_hash
from fleet.templating.filters.lookups import make_lookups
from fleet.templating.filters.tests import TESTS

__all__ = ["FILTERS", "TESTS", "install", "make_lookups", "password_hash", "to_bool"]
