"""Plug-ins: allocation engines, signals and selection scores, named by settings.

Wherever settings name an engine (``engines``), a signal (``signals``) or a score (``score``),
the name is spelled one of two ways, optionally followed by parameters:

``name``
    a name registered as a Python entry point of an installed package, in the group
    ``quant_lakehouse.engines``, ``quant_lakehouse.signals`` or ``quant_lakehouse.scores``
    (the platform's own ``min_variance``, ``trend_strength``... are registered the same way,
    in its ``pyproject.toml``);
``package.module:Name``
    an import path: the module is imported and ``Name`` (dots allowed: ``Outer.Inner``) read;
``...?key=value&key=value``
    parameters, passed to the class's constructor (or, for a function, as keyword arguments
    on every call), e.g. ``skfolio.optimization:MeanRisk?risk_measure=CVAR&min_weights=0``.
    Each value is typed from the parameter's default: an enum default takes the member's name
    (``CVAR``, any case) or value; a bool ``true``/``false``; an int or float a number; ``none``
    is None. Without a default, ``true``/``false``/``none`` and numbers are read as such and
    anything else is a string. A name the constructor does not take is refused.

:func:`resolve` imports and checks a plug-in once per process and returns a :class:`Plugin`;
an unknown or unimportable name is a :class:`PluginError` in one line, listing what is
registered with a "did you mean". :meth:`Plugin.record` is what the run manifest stores:
the import path, the distribution that ships it and its version, and the SHA-256 of the
source file defining it. Workers resolve plug-ins from these strings (nothing is pickled).
"""

import difflib
import enum
import functools
import hashlib
import importlib
import inspect
import re
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from quant_assets.documents import PluginRecord

PluginKind = Literal["engine", "signal", "score"]
ENTRY_POINT_GROUPS: dict[str, str] = {
    "engine": "quant_lakehouse.engines",
    "signal": "quant_lakehouse.signals",
    "score": "quant_lakehouse.scores",
}
"""The entry point group of each kind of plug-in."""
WHAT_IT_IS: dict[str, str] = {
    "engine": "a class with `weights(returns, settings, moments)`, or an estimator class with "
    "`fit(X)` and `weights_`",
    "signal": "a function (or class) from the closes panel to a panel of the same shape",
    "score": "a function (or class) from one date's features and the regime to a score per symbol",
}
"""What each kind of plug-in must be (error messages)."""
PARAMETER_SEPARATOR = "?"
PARAMETER_JOINER = "&"
IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
REGISTERED_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
PARAMETER_NAME = re.compile(r"^[A-Za-z_]\w*$")
NOT_A_WORD = re.compile(r"\W+")
NONE_WORDS = {"none", "null"}
BOOLEAN_WORDS = {"true": True, "false": False}


class PluginError(ValueError):
    """A plug-in name that cannot be resolved: unknown, unimportable, or of the wrong shape."""


@dataclass(frozen=True)
class Plugin:
    """One resolved plug-in.

    Attributes
    ----------
    kind : str
        ``engine``, ``signal`` or ``score``.
    name : str
        The name as settings spell it (with its parameters): the plug-in's label in results.
    import_path : str
        ``module:qualname`` of the object named.
    target : object
        The imported class, function or instance.
    params : dict
        The typed parameters.
    """

    kind: str
    name: str
    import_path: str
    target: Any = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        """The name without parameters and without the module (``MeanRisk``, ``momentum``)."""
        bare = self.name.partition(PARAMETER_SEPARATOR)[0]
        return bare.rpartition(":")[2].rpartition(".")[2]

    @property
    def column(self) -> str:
        """A column name for the plug-in's output: the short name, then its parameters.

        ``momentum_12_1`` stays as it is; ``pkg.mod:Momentum?window=126&skip=21`` becomes
        ``Momentum_window_126_skip_21`` (anything but letters, digits and ``_`` becomes ``_``).
        """
        parameters = self.name.partition(PARAMETER_SEPARATOR)[2]
        text = self.short_name + (f"_{parameters}" if parameters else "")
        return NOT_A_WORD.sub("_", text).strip("_")

    def build(self) -> Any:
        """A class instantiated with the parameters; a function bound to them; else as is."""
        if inspect.isclass(self.target):
            return self.target(**self.params)
        if self.params:
            return functools.partial(self.target, **self.params)
        return self.target

    def record(self) -> PluginRecord:
        """What the run manifest stores about this plug-in (see the module docstring)."""
        module = self.import_path.partition(":")[0]
        distribution = distribution_of(module)
        version = None
        if distribution is not None:
            try:
                version = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                version = None
        return PluginRecord(
            kind=self.kind,
            name=self.name,
            import_path=self.import_path,
            distribution=distribution,
            version=version,
            source_sha256=source_sha256(module),
        )


def registered(kind: str) -> dict[str, str]:
    """Name -> import path of every plug-in of ``kind`` installed as an entry point."""
    group = ENTRY_POINT_GROUPS[_checked_kind(kind)]
    return {ep.name: ep.value for ep in metadata.entry_points(group=group)}


@functools.lru_cache(maxsize=512)
def resolve(kind: str, name: str) -> Plugin:
    """The plug-in ``name`` of ``kind``, imported and checked (cached per process).

    Raises
    ------
    PluginError
        In one line: an unknown name (with the registered ones and a "did you mean"), an import
        that fails, a missing attribute, an object of the wrong shape, or a bad parameter.
    """
    _checked_kind(kind)
    if not isinstance(name, str) or not name.strip():
        raise PluginError(f"a {kind} is named by a non-empty string, got {name!r}")
    target_text, _, parameter_text = name.strip().partition(PARAMETER_SEPARATOR)
    known = registered(kind)
    if IMPORT_PATH.match(target_text):
        import_path = target_text
    elif REGISTERED_NAME.match(target_text) and target_text in known:
        import_path = known[target_text]
    else:
        raise PluginError(_unknown(kind, target_text, known))
    target = _import(kind, name, import_path, known)
    _check_shape(kind, name, target)
    params = _typed_parameters(kind, name, target, parameter_text)
    return Plugin(kind, name, _canonical_path(import_path, target), target, params)


def check_name(kind: str, name: Any) -> str:
    """``name`` when it resolves to a plug-in of ``kind``; a :class:`PluginError` otherwise."""
    resolve(kind, name)
    return str(name)


def distribution_of(module: str) -> str | None:
    """The installed distribution that ships the top-level package of ``module``, if any."""
    candidates = _packages_distributions().get(module.partition(".")[0], [])
    return candidates[0] if candidates else None


def source_sha256(module: str) -> str | None:
    """SHA-256 of the source file of ``module`` (None for a module with no file)."""
    loaded = sys.modules.get(module) or importlib.import_module(module)
    path = getattr(loaded, "__file__", None)
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def typed_value(text: str, default: Any = inspect.Parameter.empty) -> Any:
    """A parameter value read from ``text``, typed after ``default`` (see the module docstring).

    Raises
    ------
    ValueError
        When ``text`` does not fit the default's type (the message lists an enum's members).
    """
    if isinstance(default, enum.Enum):
        members = type(default).__members__
        by_name = {key.lower(): member for key, member in members.items()}
        if text.lower() in by_name:
            return by_name[text.lower()]
        for member in members.values():
            if str(member.value).lower() == text.lower():
                return member
        raise ValueError(f"{text!r} is not one of {sorted(members)}")
    lowered = text.lower()
    if lowered in NONE_WORDS:
        return None
    if isinstance(default, bool) or lowered in BOOLEAN_WORDS:
        if lowered not in BOOLEAN_WORDS:
            raise ValueError(f"{text!r} is not true or false")
        return BOOLEAN_WORDS[lowered]
    if isinstance(default, int) and not isinstance(default, bool):
        return int(text)
    if isinstance(default, float):
        return float(text)
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            continue
    return text


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _checked_kind(kind: str) -> str:
    if kind not in ENTRY_POINT_GROUPS:
        raise ValueError(f"unknown plug-in kind {kind!r}; choose from {sorted(ENTRY_POINT_GROUPS)}")
    return kind


def _unknown(kind: str, name: str, known: dict[str, str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown {kind} {name!r}{hint}; registered {kind}s: {sorted(known)}, or an import path "
        "`package.module:Name`"
    )


def _import(kind: str, name: str, import_path: str, known: dict[str, str]) -> Any:
    module_name, _, qualname = import_path.partition(":")
    where = f"registered {kind}s: {sorted(known)}"
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as error:  # an import can fail any way: report it in one line
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        raise PluginError(f"{kind} {name!r} cannot be imported ({reason}); {where}") from None
    for part in qualname.split("."):
        if not hasattr(target, part):
            names = [n for n in dir(target) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PluginError(
                f"{kind} {name!r}: {module_name!r} has no attribute {qualname!r}{hint}; {where}"
            )
        target = getattr(target, part)
    return target


def _check_shape(kind: str, name: str, target: Any) -> None:
    if kind == "engine":
        fits = hasattr(target, "weights") or (inspect.isclass(target) and hasattr(target, "fit"))
    else:
        fits = callable(target)
    if not fits:
        raise PluginError(f"{kind} {name!r} is a {type(target).__name__}, not {WHAT_IT_IS[kind]}")


def _typed_parameters(kind: str, name: str, target: Any, text: str) -> dict[str, Any]:
    if not text:
        return {}
    if not (inspect.isclass(target) or inspect.isfunction(target)):
        raise PluginError(f"{kind} {name!r} takes no parameters (it is an instance)")
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        signature = None
    accepted = {} if signature is None else dict(signature.parameters)
    open_ended = signature is None or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()
    )
    params: dict[str, Any] = {}
    for pair in text.split(PARAMETER_JOINER):
        key, sep, value = pair.partition("=")
        if not sep or not PARAMETER_NAME.match(key):
            raise PluginError(
                f"{kind} {name!r}: parameters are spelled `?key=value&key=value`, got {pair!r}"
            )
        if key not in accepted and not open_ended:
            close = difflib.get_close_matches(key, list(accepted), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PluginError(
                f"{kind} {name!r}: unknown parameter {key!r}{hint}; it takes {sorted(accepted)}"
            )
        default = accepted[key].default if key in accepted else inspect.Parameter.empty
        try:
            params[key] = typed_value(value, default)
        except ValueError as error:
            raise PluginError(f"{kind} {name!r}: parameter {key!r}: {error}") from None
    return params


def _canonical_path(import_path: str, target: Any) -> str:
    """``module:qualname`` where the object is defined (a re-export names its origin)."""
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<" not in qualname:
        return f"{module}:{qualname}"
    return import_path
