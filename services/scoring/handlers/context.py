"""What every scoring handler works with; built once in bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.scoring.domain.ruler import RulerBook


@dataclass
class ScoringContext:
    pool: asyncpg.Pool
    rulers: RulerBook
