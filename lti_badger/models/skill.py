"""ESCO concepts (skills and occupations) an operator imported from ESCO's published CSV, for
the badge designer's skills picker. Tool-wide reference data, like the shipped starter index."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SkillConcept(Base):
    __tablename__ = "skill_concept"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(String(300), unique=True)
    label: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))  # "skill" or "occupation"
    # Lowercased label, searched with LIKE.
    search: Mapped[str] = mapped_column(String(500), index=True)
