"""Typed parameter specifications shared by tasks, methods and generators.

A :class:`Param` says what a suite may set: its type, default, allowed choices and
range. Suite validation uses it to reject a bad value *before* anything runs, with a
message that says what was found and what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

#: Sentinel for a parameter without a default (the suite must set it).
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()


@dataclass(frozen=True)
class Param:
    """One parameter: ``type`` is int, float, str or bool."""

    type: type
    default: Any = REQUIRED
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    doc: str = ""
    #: Left out of keys while at its default: a parameter added after runs were recorded
    #: (keys of old run files still match) or one that only opts into something.
    omit_default: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def expected(self) -> str:
        """A human description of the accepted values, for error messages."""
        text = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[self.type]
        if self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        bounds = []
        if self.min is not None:
            bounds.append(f">= {self.min:g}")
        if self.max is not None:
            bounds.append(f"<= {self.max:g}")
        return text + (" " + " and ".join(bounds) if bounds else "")

    def coerce(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ValueError."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(f"expected {self.expected()}, found {value!r}")
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ValueError(f"expected {self.expected()}, found {value!r}")
        elif self.type is float:
            if isinstance(value, str):
                # YAML 1.1 (PyYAML) reads 1.0e6 without an exponent sign as a string
                try:
                    value = float(value)
                except ValueError:
                    raise ValueError(f"expected {self.expected()}, found {value!r}") from None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"expected {self.expected()}, found {value!r}")
            value = float(value)
            if math.isnan(value):
                raise ValueError(f"expected {self.expected()}, found NaN")
        elif self.type is str:
            if not isinstance(value, str):
                raise ValueError(f"expected {self.expected()}, found {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"expected {self.expected()}, found {value!r}")
        if self.min is not None and value < self.min:
            raise ValueError(f"expected {self.expected()}, found {value!r}")
        if self.max is not None and value > self.max:
            raise ValueError(f"expected {self.expected()}, found {value!r}")
        return value


def keyed(specs: Mapping[str, Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the parameters flagged ``omit_default`` that are at their default."""
    return {k: v for k, v in values.items() if not (k in specs and specs[k].omit_default and v == specs[k].default)}


def resolve(specs: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and coerce ``given`` against ``specs``.

    Raises ``KeyError`` for an unknown name and ``ValueError`` for a bad or missing value;
    suite validation catches both earlier with file and line, this is the last guard.
    """
    unknown = set(given) - set(specs)
    if unknown:
        raise KeyError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(specs)}")
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given:
            out[name] = spec.coerce(given[name])
        elif spec.required:
            raise ValueError(f"parameter {name!r} is required ({spec.expected()})")
        else:
            out[name] = spec.default
    return out
