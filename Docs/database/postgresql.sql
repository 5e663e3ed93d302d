-- mam-quantify batch results into PostgreSQL (12 or later; tested with 15): one row per case in
-- mam_case, one row per tumour (and per failed case) in the view mam_tumour. Docs/database.md.
--
--   cat RESULTS/reports.jsonl RESULTS/errors.jsonl | psql -v ON_ERROR_STOP=1 -d DATABASE -f postgresql.sql
--
-- Idempotent: loading the same results again changes no row. A case is keyed by its case id;
-- a case whose results changed (re-run with other inputs or another protocol, failed or
-- repaired) replaces its row, and the row keeps the input digests its figures come from.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
BEGIN;

CREATE TABLE IF NOT EXISTS mam_case (
    case_id       text PRIMARY KEY,
    -- done, registration-rejected or failed
    status        text NOT NULL,
    -- role:sha256 of each input file, in the report's order; null for a failed case
    inputs_sha256 text,
    -- the report (or, for a failed case, the error record) as mam-quantify wrote it
    document      jsonb NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);

-- One JSON document per line. CSV format with a quote and a delimiter that JSON text never
-- holds (it escapes every control character) takes each line verbatim, backslashes and
-- quotes included; COPY's text format would read JSON's backslash escapes as its own.
CREATE TEMPORARY TABLE mam_load (line text) ON COMMIT DROP;
\copy mam_load FROM pstdin WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')

INSERT INTO mam_case AS c (case_id, status, inputs_sha256, document)
SELECT d->>'caseId',
       d->>'status',
       (SELECT string_agg((i->>'role') || ':' || (i->>'sha256'), ' ' ORDER BY n)
          FROM jsonb_array_elements(d->'inputs') WITH ORDINALITY AS x(i, n)),
       d
  FROM (SELECT line::jsonb AS d FROM mam_load) AS loaded
ON CONFLICT (case_id) DO UPDATE
   SET status = EXCLUDED.status, inputs_sha256 = EXCLUDED.inputs_sha256,
       document = EXCLUDED.document, loaded_at = now()
 WHERE c.document IS DISTINCT FROM EXCLUDED.document;

CREATE OR REPLACE VIEW mam_tumour AS
SELECT c.case_id,
       c.status,
       (t->>'number')::int                                                  AS tumour,
       (t->>'label')::int                                                   AS label,
       (t->>'minimalMarginMM')::double precision                            AS mam_mm,
       (t->'uncertainty'->'minimalMarginInterval95MM'->>0)::double precision AS mam_low95_mm,
       (t->'uncertainty'->'minimalMarginInterval95MM'->>1)::double precision AS mam_high95_mm,
       (t->'uncertainty'->>'probabilityMeetsTarget')::double precision      AS p_meets_target,
       (c.document->'protocol'->>'targetMarginMM')::double precision        AS target_mm,
       (t->>'meetsTargetMargin')::boolean                                   AS meets_target,
       t->'category'->>'name'                                               AS category,
       (t->'uncertainty'->>'categoryUncertain')::boolean                    AS category_uncertain,
       (t->>'volumeML')::double precision                                   AS tumour_ml,
       (t->>'fractionInsideAblation')::double precision                     AS fraction_ablated,
       t->>'message'                                                        AS tumour_message,
       c.document->'registration'->>'verdict'                               AS registration_verdict,
       (c.document->>'marginsReliable')::boolean                            AS margins_reliable,
       jsonb_array_length(c.document->'warnings')                           AS warnings,
       c.document->'protocol'->>'name'                                      AS protocol,
       c.document->'run'->>'madeUTC'                                        AS made_utc,
       c.document->>'stage'                                                 AS error_stage,
       (c.document->>'exitStatus')::int                                     AS error_exit_status,
       c.document->>'reason'                                                AS error_reason,
       c.inputs_sha256
  FROM mam_case c
  LEFT JOIN LATERAL jsonb_array_elements(c.document->'tumours') AS t ON true;

COMMIT;
