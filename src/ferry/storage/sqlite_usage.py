"""Read-only usage figures of a bucket, by storage class (GetBucketStat)."""

from __future__ import annotations

from dataclasses import dataclass

from ferry.storage.sqlite_db import SqliteDatabase


@dataclass(frozen=True)
class ClassUsage:
    objects: int
    bytes: int


class SqliteUsage:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def by_class(self, bucket: str) -> dict[str, ClassUsage]:
        """Object versions (delete markers aside) and their bytes, per storage class."""
        rows = self._db.conn().execute(
            "SELECT storage_class, count(*) AS n, coalesce(sum(size), 0) AS bytes FROM versions "
            "WHERE bucket = ? AND is_delete_marker = 0 GROUP BY storage_class",
            (bucket,),
        )
        return {str(r["storage_class"]): ClassUsage(int(r["n"]), int(r["bytes"])) for r in rows}

    def total_bytes(self, bucket: str) -> int:
        row = (
            self._db.conn()
            .execute(
                "SELECT coalesce(sum(size), 0) AS bytes FROM versions "
                "WHERE bucket = ? AND is_delete_marker = 0",
                (bucket,),
            )
            .fetchone()
        )
        return int(row["bytes"])
