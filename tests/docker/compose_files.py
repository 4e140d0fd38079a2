"""Read docker/: the compose files (merged the way `docker compose -f a -f b` merges them),
the Dockerfile's stages and instructions, and env.example."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
STORYBANK_IMAGE_PREFIX = "${STORYBANK"


class _Override:
    """Compose's `!override` tag: this value replaces the base file's instead of merging."""

    def __init__(self, value):
        self.value = value


class ComposeLoader(yaml.SafeLoader):
    pass


def _construct_override(loader, node):
    if isinstance(node, yaml.MappingNode):
        return _Override(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return _Override(loader.construct_sequence(node, deep=True))
    return _Override(loader.construct_scalar(node))


ComposeLoader.add_constructor("!override", _construct_override)
ComposeLoader.add_constructor("!reset", lambda loader, node: _Override(None))


def load_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=ComposeLoader)  # noqa: S506 - a SafeLoader subclass


def _merge(base, override):
    if isinstance(override, _Override):
        return override.value
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else _unwrap(value)
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return _unwrap(override)


def _unwrap(value):
    if isinstance(value, _Override):
        return value.value
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    return value


def compose(*names: str) -> dict:
    """The merged configuration of docker/compose.yaml plus the named extra files, in order."""
    merged: dict = {}
    for name in ("compose.yaml", *names):
        merged = _merge(merged, load_yaml(DOCKER / name))
    return _unwrap(merged)


def runs_storybank_image(service: dict) -> bool:
    return "build" in service or str(service.get("image", "")).startswith(STORYBANK_IMAGE_PREFIX)


def _strings(value) -> list[str]:
    if isinstance(value, _Override):
        return _strings(value.value)
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


def interpolated_variables(path: Path) -> set[str]:
    """Names a compose file's values use as ${NAME...} ($${NAME} is escaped for the container's shell)."""
    found: set[str] = set()
    for text in _strings(load_yaml(path)):
        found |= set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    return found


def env_example() -> dict[str, tuple[str, bool]]:
    """NAME -> (value, required) for every `NAME=` or `# NAME=` line of docker/env.example."""
    documented: dict[str, tuple[str, bool]] = {}
    for line in (DOCKER / "env.example").read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            documented[match.group(2)] = (match.group(3), match.group(1) is None)
    return documented


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for word, argument in self.instructions if word == keyword]


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions in order, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in (DOCKER / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return logical


def dockerfile_build_args() -> dict[str, str]:
    """The default of each `ARG NAME=value` before the first FROM (the ones FROM lines may use)."""
    defaults: dict[str, str] = {}
    for line in dockerfile_instructions():
        word, _, argument = line.partition(" ")
        if word.upper() == "FROM":
            break
        if word.upper() == "ARG":
            name, _, value = argument.strip().partition("=")
            defaults[name] = value
    return defaults


def dockerfile_stages() -> list[Stage]:
    """The Dockerfile's stages in order."""
    stages: list[Stage] = []
    for line in dockerfile_instructions():
        word, _, argument = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            parts = argument.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, base=parts[0]))
        elif stages:
            stages[-1].instructions.append((word, argument.strip()))
    return stages


def stage_chain(stages: list[Stage], name: str) -> list[Stage]:
    """The stage `name` and the stages it is built FROM, nearest first."""
    by_name = {stage.name: stage for stage in stages}
    chain = []
    while name in by_name:
        chain.append(by_name[name])
        name = by_name[name].base
    return chain


def effective(stages: list[Stage], target: str, keyword: str) -> str | None:
    """The last value of a single-valued instruction (CMD, USER, HEALTHCHECK) in effect for target."""
    for stage in stage_chain(stages, target):
        values = stage.all(keyword)
        if values:
            return values[-1]
    return None


def exec_form(argument: str) -> list[str]:
    """A CMD/ENTRYPOINT argument as an argument list (JSON exec form or shell form)."""
    if argument.startswith("["):
        return json.loads(argument)
    return ["/bin/sh", "-c", argument]


def image_env(stages: list[Stage], target: str) -> dict[str, str]:
    """ENV values in effect in the target stage (only the KEY=VALUE form is used in the Dockerfile)."""
    values: dict[str, str] = {}
    for stage in reversed(stage_chain(stages, target)):
        for argument in stage.all("ENV"):
            for pair in shlex.split(argument):
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def healthcheck_python(stages: list[Stage], target: str) -> str:
    """The Python source of the image's `HEALTHCHECK ... CMD python -c "<source>"`."""
    argument = effective(stages, target, "HEALTHCHECK") or ""
    command = argument.split(" CMD ", 1)[1]
    words = shlex.split(command)
    assert words[:2] == ["python", "-c"], words[:2]
    return words[2]
