"""The configuration: one YAML file, validated strictly, mapped to the domain's settings.

``yamlsource`` reads YAML with line numbers and ``${VAR}`` substitution, ``values`` and
``rules`` hold the value types and the policy/classifier sections, ``model`` the whole
:class:`Config` and :func:`load_config`, and ``settings`` turns a config into the engine's
frozen settings.
"""

from __future__ import annotations

from mailguard.config.model import Config, load_config, parse_config, redact_url

__all__ = ["Config", "load_config", "parse_config", "redact_url"]
