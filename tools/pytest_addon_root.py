"""pytest plugin: collect the Odoo addon root as a plain directory.

The repository root is the addon, so it has an ``__init__.py`` that imports
Odoo models. pytest would import it as a test package and fail without Odoo;
the pure tests under ``providers/tests`` need only ``providers``. The addon
directory and every directory below it are therefore collected as plain
directories, so no package ``__init__.py`` of the addon is imported by pytest
(the tests import ``providers`` themselves, from the repository root).
Loaded with ``-p tools.pytest_addon_root`` (see pytest.ini).
"""
import pytest
from _pytest.main import Dir


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path, parent):
    for directory in [path] + list(path.parents):
        if (directory / '__manifest__.py').is_file():
            return Dir.from_parent(parent, path=path)
    return None
