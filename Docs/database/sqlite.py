#!/usr/bin/env python3
"""mam-quantify batch results into SQLite (3.38 or later, whose JSON functions are built in):
one row per case in mam_case, one row per tumour (and per failed case) in the view mam_tumour,
with the same columns as the PostgreSQL recipe (Docs/database.md).

    python3 sqlite.py RESULTS DATABASE

RESULTS is a batch's output folder (its reports.jsonl and errors.jsonl are read). Idempotent:
loading the same results again changes no row; a case whose results changed replaces its row.
Python's standard library only.
"""
import json
import sqlite3
import sys
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS mam_case (
    case_id       TEXT PRIMARY KEY,
    status        TEXT NOT NULL,
    inputs_sha256 TEXT,
    document      TEXT NOT NULL CHECK (json_valid(document)),
    loaded_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
DROP VIEW IF EXISTS mam_tumour;
CREATE VIEW mam_tumour AS
SELECT c.case_id,
       c.status,
       json_extract(t.value, '$.number')                                   AS tumour,
       json_extract(t.value, '$.label')                                    AS label,
       json_extract(t.value, '$.minimalMarginMM')                          AS mam_mm,
       json_extract(t.value, '$.uncertainty.minimalMarginInterval95MM[0]') AS mam_low95_mm,
       json_extract(t.value, '$.uncertainty.minimalMarginInterval95MM[1]') AS mam_high95_mm,
       json_extract(t.value, '$.uncertainty.probabilityMeetsTarget')       AS p_meets_target,
       json_extract(c.document, '$.protocol.targetMarginMM')               AS target_mm,
       json_extract(t.value, '$.meetsTargetMargin')                        AS meets_target,
       json_extract(t.value, '$.category.name')                            AS category,
       json_extract(t.value, '$.uncertainty.categoryUncertain')            AS category_uncertain,
       json_extract(t.value, '$.volumeML')                                 AS tumour_ml,
       json_extract(t.value, '$.fractionInsideAblation')                   AS fraction_ablated,
       json_extract(t.value, '$.message')                                  AS tumour_message,
       json_extract(c.document, '$.registration.verdict')                  AS registration_verdict,
       json_extract(c.document, '$.marginsReliable')                       AS margins_reliable,
       json_array_length(c.document, '$.warnings')                         AS warnings,
       json_extract(c.document, '$.protocol.name')                         AS protocol,
       json_extract(c.document, '$.run.madeUTC')                           AS made_utc,
       json_extract(c.document, '$.stage')                                 AS error_stage,
       json_extract(c.document, '$.exitStatus')                            AS error_exit_status,
       json_extract(c.document, '$.reason')                                AS error_reason,
       c.inputs_sha256
  FROM mam_case c
  LEFT JOIN json_each(c.document, '$.tumours') AS t;
"""

UPSERT = """
INSERT INTO mam_case (case_id, status, inputs_sha256, document) VALUES (?, ?, ?, ?)
ON CONFLICT (case_id) DO UPDATE
   SET status = excluded.status, inputs_sha256 = excluded.inputs_sha256,
       document = excluded.document, loaded_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
 WHERE mam_case.document IS NOT excluded.document
"""


def documents(results):
    for name in ("reports.jsonl", "errors.jsonl"):
        path = results / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line:
                yield line, json.loads(line)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: sqlite.py RESULTS DATABASE")
    results, database = Path(sys.argv[1]), sys.argv[2]
    if not (results / "reports.jsonl").exists():
        sys.exit(f"{results}: no reports.jsonl (not a batch's output folder?)")
    db = sqlite3.connect(database)
    counts = {"new": 0, "replaced": 0, "unchanged": 0}
    with db:
        db.executescript(SCHEMA)
        before = dict(db.execute("SELECT case_id, document FROM mam_case"))
        for text, d in documents(results):
            inputs = " ".join(f"{i['role']}:{i['sha256']}" for i in d.get("inputs", [])) or None
            db.execute(UPSERT, (d["caseId"], d["status"], inputs, text))
            known = before.get(d["caseId"])
            counts["new" if known is None else "unchanged" if known == text else "replaced"] += 1
    db.close()
    print(f"{database}: {sum(counts.values())} cases: {counts['new']} new, {counts['replaced']} replaced, "
          f"{counts['unchanged']} unchanged")


if __name__ == "__main__":
    main()
