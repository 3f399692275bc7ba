"""Checks that run once per Kontaktforløb; each form's module adds its own to :data:`FORLOEB`."""

from __future__ import annotations

from smdb.rules._core import Tjekliste

FORLOEB = Tjekliste()
