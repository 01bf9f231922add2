"""What lives where in a workspace folder: the names every part of consult finds a round's files by.

One place for them, so that the settings, the seal key, the definition snapshots, the store and
a definitions update (which snapshots all of them first) cannot disagree about a name.
"""

from __future__ import annotations

import shutil

CONFIG = "consult.yaml"  # the round's settings
DB = "consult.db"  # the store
DEFINITIONS = "questionnaires"  # the round's own definitions, copied by 'consult init'
SNAPSHOTS = "definitions"  # every definition a form was generated from, by hash
PRIVATE = ".consult"  # the workspace's private folder: the seal key; never exported, never in a form
SECRET = "secret"  # the seal key's file in PRIVATE
# Copying a definitions folder leaves out caches and the tool's own problem catalogue
# (consult.problems reads it from the bundled folder only: a round's copy would never be read).
NOT_COPIED = shutil.ignore_patterns("__pycache__", "*.pyc", "problems.yaml")
