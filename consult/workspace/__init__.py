"""A workspace: one consultation round in one folder (``consult.yaml``, ``consult.db``, the
round's own questionnaire definitions, the seal key and the definitions forms were made from).

Cut by responsibility; every name is importable from ``consult.workspace`` itself:

* :mod:`~consult.workspace.layout`: what lives where in the folder;
* :mod:`~consult.workspace.folder`: the :class:`Workspace` object every command is given;
* :mod:`~consult.workspace.settings`: ``consult.yaml`` read and checked
  (:func:`open_workspace`), a new workspace made (:func:`init_workspace`);
* :mod:`~consult.workspace.keys`: the seal key;
* :mod:`~consult.workspace.snapshots`: the definitions forms were generated from, by hash;
* :mod:`~consult.workspace.opening`: the store opened for a command, upgraded once (:func:`open_store`).
"""

from __future__ import annotations

from consult.workspace.folder import DEFAULT_ROUND, DEFAULT_TITLE, Workspace
from consult.workspace.keys import create_secret, has_history, load_secret
from consult.workspace.layout import CONFIG, DB, DEFINITIONS, NOT_COPIED, PRIVATE, SECRET, SNAPSHOTS
from consult.workspace.opening import open_store
from consult.workspace.settings import (
    WorkspaceError,
    check_config,
    copy_definitions,
    init_workspace,
    open_workspace,
    workspace_definitions_dir,
)
from consult.workspace.snapshots import known_definitions, remember_definition

__all__ = [
    "CONFIG",
    "DB",
    "DEFAULT_ROUND",
    "DEFAULT_TITLE",
    "DEFINITIONS",
    "NOT_COPIED",
    "PRIVATE",
    "SECRET",
    "SNAPSHOTS",
    "Workspace",
    "WorkspaceError",
    "check_config",
    "copy_definitions",
    "create_secret",
    "has_history",
    "init_workspace",
    "known_definitions",
    "load_secret",
    "open_store",
    "open_workspace",
    "remember_definition",
    "workspace_definitions_dir",
]
