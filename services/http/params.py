"""Parameter markers for controller signatures, so each route declares where a value comes from
(Litestar 3 stops inferring it): the process's Deps, the authenticated caller, a path id."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from litestar.params import FromPath

from services.bootstrap import Deps
from services.http.auth import Principal

DepsParam: TypeAlias = NamedDependency[Deps]
Caller: TypeAlias = NamedDependency[Principal]
PathId: TypeAlias = FromPath[str]
