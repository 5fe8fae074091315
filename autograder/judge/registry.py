"""Every check spec by name: the spec modules register theirs on import (:data:`SPEC_MODULES`)."""

from __future__ import annotations

from autograder.judge.spec import CheckSpec

_REGISTRY: dict[str, CheckSpec] = {}


def register(*specs: CheckSpec) -> None:
    """Add specs to the registry (each name once)."""
    for spec in specs:
        if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
            raise ValueError(f"two check specs are named {spec.name!r}")
        _REGISTRY[spec.name] = spec


def get_spec(name: str) -> CheckSpec:
    """The spec called ``name``; a clear error lists the known names otherwise."""
    from autograder.judge.specs import load_all

    load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no check named {name!r}; known checks: {known}") from None


def all_specs() -> list[CheckSpec]:
    """Every registered spec, sorted by name."""
    from autograder.judge.specs import load_all

    load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def topic_specs(spec_name: str) -> list[CheckSpec]:
    """Every registered spec of the notebook part ``spec_name`` belongs to (same topic)."""
    topic = spec_name.split(".", 1)[0]
    return [s for s in all_specs() if s.name.split(".", 1)[0] == topic]
