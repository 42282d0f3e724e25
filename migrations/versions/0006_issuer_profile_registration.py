"""Issuer profile per registration (platform row), no longer per issuer string.

Canvas cloud gives every institution the same issuer, so a profile keyed by the issuer was
shared by unrelated institutions. Each existing profile is copied onto every registration of
its issuer (the oldest registration keeps the row and its public id, so image URLs in issued
credentials stay valid); a profile whose issuer has no registration left is dropped.

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

_COPIED = ("name", "url", "email", "description", "image_type", "image", "updated_at")


def upgrade() -> None:
    with op.batch_alter_table("issuer_profile") as batch:
        batch.add_column(sa.Column("platform_id", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_issuer_profile_platform_issuer", type_="unique")
    conn = op.get_bind()
    profile = sa.table("issuer_profile", sa.column("id"), sa.column("public_id"), sa.column("platform_issuer"),
                       sa.column("platform_id"), *(sa.column(c) for c in _COPIED))
    platform = sa.table("platform", sa.column("id"), sa.column("issuer"))
    for row in conn.execute(sa.select(profile)).mappings().all():
        ids = conn.execute(sa.select(platform.c.id).where(platform.c.issuer == row["platform_issuer"])
                           .order_by(platform.c.id)).scalars().all()
        if not ids:
            conn.execute(sa.delete(profile).where(profile.c.id == row["id"]))
            continue
        conn.execute(sa.update(profile).where(profile.c.id == row["id"]).values(platform_id=ids[0]))
        for platform_id in ids[1:]:
            conn.execute(sa.insert(profile).values(
                public_id=str(uuid.uuid4()), platform_issuer=row["platform_issuer"], platform_id=platform_id,
                **{c: row[c] for c in _COPIED}))
    with op.batch_alter_table("issuer_profile") as batch:
        batch.drop_column("platform_issuer")
        batch.alter_column("platform_id", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(batch.f("uq_issuer_profile_platform_id"), ["platform_id"])
        batch.create_foreign_key(batch.f("fk_issuer_profile_platform_id_platform"), "platform",
                                 ["platform_id"], ["id"], ondelete="CASCADE")


def downgrade() -> None:
    """Back to one profile per issuer: the profile of each issuer's oldest registration stays."""
    with op.batch_alter_table("issuer_profile") as batch:
        batch.add_column(sa.Column("platform_issuer", sa.String(length=500), nullable=True))
    conn = op.get_bind()
    profile = sa.table("issuer_profile", sa.column("id"), sa.column("platform_id"), sa.column("platform_issuer"))
    platform = sa.table("platform", sa.column("id"), sa.column("issuer"))
    seen: set[str] = set()
    rows = conn.execute(sa.select(profile.c.id, platform.c.issuer).join(platform, platform.c.id == profile.c.platform_id)
                        .order_by(profile.c.platform_id)).all()
    for profile_id, issuer in rows:
        if issuer in seen:
            conn.execute(sa.delete(profile).where(profile.c.id == profile_id))
        else:
            seen.add(issuer)
            conn.execute(sa.update(profile).where(profile.c.id == profile_id).values(platform_issuer=issuer))
    with op.batch_alter_table("issuer_profile") as batch:
        batch.drop_constraint("fk_issuer_profile_platform_id_platform", type_="foreignkey")
        batch.drop_constraint("uq_issuer_profile_platform_id", type_="unique")
        batch.drop_column("platform_id")
        batch.alter_column("platform_issuer", existing_type=sa.String(length=500), nullable=False)
        batch.create_unique_constraint(batch.f("uq_issuer_profile_platform_issuer"), ["platform_issuer"])
