"""Provides the field reference (docs/configuration.md), generated from the models so it cannot drift."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sandbox.config import distributions, limits
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.units import format_duration

_DISTRIBUTIONS = (distributions.Exponential, distributions.Lognormal, distributions.Gamma, distributions.Weibull,
                  distributions.Deterministic, distributions.Empirical, distributions.Mixture)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        meta = " ".join(str(m) for m in args[1:])
        if "parse_duration" in meta:
            return "duration"
        if "parse_rate" in meta:
            return "rate"
        if "discriminator='kind'" in meta:
            return "distribution"
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is dict:
        return f"map of {_type_name(args[0])} → {_type_name(args[1])}"
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    return getattr(tp, "__name__", str(tp))


def _field_type(info: Any) -> str:
    """A field's type; a constrained duration keeps its unit validator in the field's metadata, not its type."""
    meta = " ".join(str(m) for m in info.metadata)
    if "parse_duration" in meta:
        return "duration" + (" or null" if type(None) in typing.get_args(info.annotation) else "")
    if "parse_rate" in meta:
        return "rate" + (" or null" if type(None) in typing.get_args(info.annotation) else "")
    return _type_name(info.annotation)


def _default(info: Any) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "**required**"
    value = info.default_factory() if info.default_factory is not None else info.default
    if isinstance(value, BaseModel):
        return "see below" if not isinstance(value, _DISTRIBUTIONS) else \
            f"`{value.model_dump(mode='json', by_alias=True, exclude_none=True)}`"
    if isinstance(value, float) and "duration" in _field_type(info):
        return f"`{format_duration(value)}`"
    if value is None:
        return "`null`"
    return f"`{value}`"


def _nested(tp: Any) -> list[type[BaseModel]]:
    """Models mentioned anywhere inside an annotation."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _nested(arg)]


def _section(model: type[BaseModel], seen: set[type[BaseModel]], out: list[str]) -> None:
    if model in seen:
        return
    seen.add(model)
    doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    out += [f"### {model.__name__}", "", doc, "", "| key | type | default | meaning |", "|---|---|---|---|"]
    children: list[type[BaseModel]] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key == "kind":
            continue
        description = (info.description or "").replace("|", "\\|").replace("\n", " ")
        out.append(f"| `{key}` | {_field_type(info)} | {_default(info)} | {description} |")
        children += [c for c in _nested(info.annotation) if c not in _DISTRIBUTIONS]
    out.append("")
    for child in children:
        _section(child, seen, out)


def markdown_reference() -> str:
    out = ["# Configuration reference", "",
           "Generated from the models by `support-sandbox schema --markdown`; do not edit by hand.",
           "Durations take a unit (`45s`, `6m`, `1.5h`, `1d`); rates too (`120/h`, `2/min`). Unknown keys are "
           "errors. Sources of the defaults: [model.md](model.md#sources).", "",
           "## Scenario files (`simulations/*.yaml`)", ""]
    seen: set[type[BaseModel]] = set()
    _section(Scenario, seen, out)
    out += ["## Policy files (`policies/*.yaml`)", ""]
    _section(Policy, seen, out)
    out += ["## Distributions", "",
            "Every duration distribution is a mapping with a `kind`; each knows its analytic mean.", ""]
    for dist in _DISTRIBUTIONS:
        kind = typing.get_args(dist.model_fields["kind"].annotation)[0]
        fields = [f"`{info.alias or name}`" for name, info in dist.model_fields.items() if name != "kind"]
        out.append(f"- `kind: {kind}`: {(dist.__doc__ or '').strip().splitlines()[0]} Keys: {', '.join(fields)}.")
    out += ["", "## Limits", "", "Checked while loading, before anything runs (`sandbox/config/limits.py`): no input "
            "can hang a run or exhaust memory. Numbers are validated strictly: `yes` is not 1 and `\"0.5\"` is "
            "not a number.", "", "| what | at most |", "|---|---|"]
    out += [f"| {what} | {value} |" for what, value in limits.LIMITS]
    return "\n".join(out) + "\n"
