"""Find the environment variables Storybank's code reads, by reading the code (not by running it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ["storybank", "home", "stories", "capture", "search", "questions", "operations"]
ENV_FUNCTIONS = {"env_str", "env_bool", "env_int", "env_list", "env_url", "env_choice"}


def _constant_string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def variables_read_in(source: str) -> set[str]:
    """Names passed to the env_* functions, os.environ.get/[]/in, os.getenv, and SECRET_KEY via secret_key()."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            first = _constant_string(node.args[0]) if node.args else None
            if isinstance(func, ast.Name) and func.id in ENV_FUNCTIONS and first:
                found.add(first)
            elif isinstance(func, ast.Name) and func.id == "secret_key":
                found.add("SECRET_KEY")
            elif isinstance(func, ast.Attribute) and first:
                if func.attr in {"get", "pop", "setdefault"} and _is_os_environ(func.value):
                    found.add(first)
                elif func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os":
                    found.add(first)
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            name = _constant_string(node.slice)
            if name:
                found.add(name)
        elif isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators):
            name = _constant_string(node.left)
            if name:
                found.add(name)
    return found


def first_party_sources() -> list[Path]:
    paths = []
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                paths.append(path)
    return paths


def variables_read_by_code() -> dict[str, list[str]]:
    """variable -> the files (relative to the repository) that read it."""
    readers: dict[str, list[str]] = {}
    for path in first_party_sources():
        for name in variables_read_in(path.read_text()):
            readers.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return readers
