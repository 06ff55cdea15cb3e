"""Where the running agent keeps its state: the local secret and the list of paired sites.

platformdirs' user configuration directory for signagent, sub-directory ``agent``: both must survive a reboot (a
runtime directory would not) and belong to the user alone (mode 0700). Tests and several agents on one computer
give their own directory instead.

Exports: default_state_dir.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_state_dir"]


def default_state_dir() -> Path:
    """The agent's state directory for this user."""
    import platformdirs

    return Path(platformdirs.user_config_dir("signagent", appauthor=False), "agent")
