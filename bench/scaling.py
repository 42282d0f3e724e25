"""How far one PostgreSQL goes (docs/scaling.md): rows written per award, and table and index
sizes as the awards grow.

First `--real` awards go through the real path, in this process: one xAPI statement per new
learner completes the badge (POST /xapi/statements through the Flask app: event, progress,
award, signed credential, status entry, audit, outbox), then a delivery worker sends each to the
LMS simulator (delivery attempt). The rows each table gained, divided by the awards, are the
rows per award. Then those real rows are copied with bulk SQL (`INSERT … SELECT … CROSS JOIN
generate_series`, ids, foreign keys and unique values shifted per copy) until the database
holds each size of `--sizes`, and the size of every table and index is read at each step
(after VACUUM ANALYZE). The copies are byte for byte the real rows, so sizes are
representative; only the values that must stay unique differ.

    .venv/bin/python bench/scaling.py --real 200 --sizes 10000,100000
    .venv/bin/python bench/scaling.py --private --real 200 --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, inspect, text  # noqa: E402

from lti_badger.db import transaction  # noqa: E402
from lti_badger.deliveries.worker import Worker  # noqa: E402
from lti_badger.devtools.lms_sim import LmsSimulator  # noqa: E402
from lti_badger.keys import KIND_ISSUER  # noqa: E402
from lti_badger.migrate import upgrade  # noqa: E402
from lti_badger.models import Delivery  # noqa: E402
from tests.conftest import _create_pg_database, _drop_pg_database  # noqa: E402
from tests.deployment import XAPI_HEADERS, completed, seed_course  # noqa: E402
from tests.functional.lti.conftest import start_tool  # noqa: E402
from tests.private_servers import PrivatePostgres  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def row_counts(engine, tables: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables}


def real_awards(db_url: str, n: int) -> tuple[dict[str, int], dict[str, int], float]:
    """n awards through the real path; the rows before (setup) and after, and the seconds."""
    instance = Path(tempfile.mkdtemp(prefix="lti-badger-scaling-"))
    sim = LmsSimulator().start()
    settings = {"database_url": db_url, "instance_path": str(instance), "in_process_worker": False,
                "outbound_allow": "127.0.0.0/8", "mail_backend": "file", "secret_key": uuid.uuid4().hex}
    tool, server = start_tool(settings)  # on a loopback server: the simulator fetches its JWKS
    app = tool.app
    svc = app.extensions["lti_badger"]
    svc.keys.ensure(KIND_ISSUER)
    env = {f"LTI_BADGER_{k.upper()}": str(v) for k, v in settings.items()}
    world = seed_course(SimpleNamespace(env=env, url=tool.url), sim, n)
    tables = inspect(svc.engine).get_table_names()
    before = row_counts(svc.engine, tables)
    client = app.test_client()
    started = time.monotonic()
    for i in range(n):
        answer = client.post("/xapi/statements", json=completed(f"l{i}", world.context_id, "12"),
                             headers=XAPI_HEADERS, auth=world.xapi_auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    worker = Worker(svc.sessions, svc.settings, svc.keys, poll_seconds=0.05, launch_sync_every=float("inf"))
    while True:
        worker.run_once()
        with transaction(svc.sessions) as s:
            if s.query(Delivery.id).filter(Delivery.status == "pending").first() is None:
                break
    seconds = time.monotonic() - started
    after = row_counts(svc.engine, tables)
    server.stop()
    svc.engine.dispose()
    sim.stop()
    return before, after, seconds


class Copier:
    """Copies the rows the real awards wrote (kept aside in schema `seed`), `copies` times per
    call, shifting ids, the foreign keys to copied rows and the values that must stay unique."""

    def __init__(self, engine, tables: list[str]) -> None:
        self.engine, self.tables = engine, tables
        insp = inspect(engine)
        self.columns = {t: insp.get_columns(t) for t in tables}
        self.fks = {t: {fk["constrained_columns"][0]: fk["referred_table"] for fk in insp.get_foreign_keys(t)
                        if len(fk["constrained_columns"]) == 1} for t in tables}
        self.unique = {t: [u["column_names"] for u in insp.get_unique_constraints(t)]
                       + [i["column_names"] for i in insp.get_indexes(t) if i["unique"]] for t in tables}
        self.id_is_int = {t: "INT" in str(next(c["type"] for c in self.columns[t] if c["name"] == "id")).upper()
                          for t in tables}
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA seed"))
            for t in tables:
                conn.execute(text(f'CREATE TABLE seed."{t}" AS SELECT * FROM "{t}"'))
            self.seed_max = {t: conn.execute(text(f'SELECT max(id) FROM "{t}"')).scalar()
                             for t in tables if self.id_is_int[t]}
        self.done = 0  # copies made so far
        self._altered = {t: self._to_alter(t) for t in tables}

    def _shifted(self, table: str, name: str) -> str | None:
        """The table whose ids `name` holds, when those rows are copied too."""
        if name == "id":
            return table
        target = self.fks[table].get(name)
        return target if target in self.tables else None

    def _expr(self, table: str, column: dict) -> str:
        name, q = column["name"], f'"{column["name"]}"'
        kind = str(column["type"]).upper()
        target = self._shifted(table, name)
        if target is not None:
            if self.id_is_int[target]:
                return f"{q} + g * {self.seed_max[target]}"
            return f"md5({q}::text || g::text)::uuid" + ("" if "UUID" in kind else "::text")
        if name in self._altered[table]:
            if "UUID" in kind:
                return f"md5({q}::text || g::text)::uuid"
            if "INT" in kind:
                return f"{q} + g * 200000"  # a status list index: stays below 2^31 for 10^4 copies
            return f"{q} || '~' || g::text"
        return q

    def _to_alter(self, table: str) -> set[str]:
        """One column of each unique key that no shifted column makes unique already: a text one
        if there is one (never a foreign key to rows that are not copied)."""
        altered = set()
        for cols in self.unique[table]:
            if any(self._shifted(table, c) for c in cols):
                continue
            kinds = {c["name"]: str(c["type"]).upper() for c in self.columns[table]}
            free = [c for c in cols if c not in self.fks[table]]
            texts = [c for c in free if "CHAR" in kinds[c] or "TEXT" in kinds[c] or "UUID" in kinds[c]]
            altered.add((texts or free)[0])
        return altered

    def copy(self, copies: int) -> None:
        first, last = self.done + 1, self.done + copies
        with self.engine.begin() as conn:
            conn.execute(text("SET session_replication_role = replica"))  # rows copied whole: skip FK checks
            for t in self.tables:
                names = ", ".join(f'"{c["name"]}"' for c in self.columns[t])
                exprs = ", ".join(self._expr(t, c) for c in self.columns[t])
                conn.execute(text(f'INSERT INTO "{t}" ({names}) SELECT {exprs} FROM seed."{t}" '
                                  f"CROSS JOIN generate_series({first}, {last}) AS g"))
            for t in self.tables:
                if self.id_is_int[t]:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                                      f'(SELECT max(id) FROM "{t}"))'))
        self.done = last


def sizes(engine, tables: list[str]) -> dict[str, dict]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        out = {}
        for t in tables:
            row = conn.execute(text(
                f"SELECT count(*), pg_relation_size('\"{t}\"'), pg_indexes_size('\"{t}\"'), "
                f"pg_total_relation_size('\"{t}\"') FROM \"{t}\"")).one()
            indexes = dict(conn.execute(text(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                "WHERE indrelid = CAST(:t AS regclass)"), {"t": f'"{t}"'}).all())
            out[t] = {"rows": row[0], "heap": row[1], "indexes": row[2], "total": row[3], "index_sizes": indexes}
        out["_database"] = {"total": conn.execute(text(  # without the seed copies this script keeps aside
            "SELECT (pg_database_size(current_database()) - coalesce(sum(pg_total_relation_size(c.oid)), 0))::bigint "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'seed' AND c.relkind = 'r'")).scalar()}
    return out


def mib(n: int) -> str:
    return f"{n / 1048576:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=DEFAULT_PG, help="a PostgreSQL server URL (a database is made and dropped)")
    parser.add_argument("--real", type=int, default=200, help="awards made through the real path")
    parser.add_argument("--sizes", default="10000,100000", help="award counts to measure at (multiples of --real)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--private", action="store_true",
                        help="run on a PostgreSQL cluster of its own (initdb in /tmp, fsync off), not --pg")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the tool's request lines
    logging.getLogger("lti_badger").setLevel(logging.WARNING)
    private = PrivatePostgres().start() if args.private else None
    db_url = _create_pg_database(private.url if private else args.pg)
    engine = create_engine(db_url)
    try:
        upgrade(engine)
        before, after, seconds = real_awards(db_url, args.real)
        per_award = {t: (after[t] - before[t]) / args.real for t in after if after[t] != before[t]}
        print(f"{args.real} real awards in {seconds:.1f} s", file=sys.stderr)
        print("rows per award:", json.dumps(per_award), file=sys.stderr)
        # Per-award tables (not the badge column and such), and each award's learner.
        grown = ["person", "enrollment"] + [t for t, r in per_award.items() if r >= 0.5]
        copier = Copier(engine, grown)
        report = {"real_awards": args.real, "real_seconds": round(seconds, 1), "rows_per_award": per_award,
                  "steps": {}}
        for size in [int(s) for s in args.sizes.split(",")]:
            started = time.monotonic()
            copier.copy(size // args.real - 1 - copier.done)
            copied_in = time.monotonic() - started
            measured = sizes(engine, grown)
            report["steps"][size] = {"copy_seconds": round(copied_in, 1), **measured}
            total = mib(measured["_database"]["total"])
            print(f"\n{size:,} awards (copied in {copied_in:.0f} s); database {total} MiB", file=sys.stderr)
            print(f"| table | rows | table MiB | indexes MiB | total MiB | bytes per award |", file=sys.stderr)
            print("| --- | --- | --- | --- | --- | --- |", file=sys.stderr)
            for t in grown:
                m = measured[t]
                print(f"| {t} | {m['rows']:,} | {mib(m['heap'])} | {mib(m['indexes'])} | {mib(m['total'])} | "
                      f"{m['total'] / size:,.0f} |", file=sys.stderr)
        print(json.dumps(report, default=str))
    finally:
        engine.dispose()
        if not args.keep:
            _drop_pg_database(db_url)
        if private is not None:
            private.remove()


if __name__ == "__main__":
    main()
