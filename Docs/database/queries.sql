-- Three questions a trial's data manager asks of the results, for PostgreSQL and SQLite alike
-- (after postgresql.sql or sqlite.py; Docs/database.md). Each ends with a semicolon.

-- The MAM of each case (the smallest of its tumours'), with its 95% interval and the target.
SELECT case_id, min(mam_mm) AS mam_mm, min(mam_low95_mm) AS mam_low95_mm, max(target_mm) AS target_mm,
       count(tumour) AS tumours
  FROM mam_tumour
 WHERE status <> 'failed'
 GROUP BY case_id
 ORDER BY case_id;

-- Cases with a tumour below the target margin (or without a measured margin), and how many.
SELECT case_id, count(*) AS tumours_below_target
  FROM mam_tumour
 WHERE status <> 'failed' AND (mam_mm IS NULL OR NOT meets_target)
 GROUP BY case_id
 ORDER BY case_id;

-- Cases whose registration the protocol rejected (margins measured but not reliable).
SELECT DISTINCT case_id
  FROM mam_tumour
 WHERE registration_verdict = 'rejected'
 ORDER BY case_id;

-- Cases that failed, with the stage and the reason.
SELECT case_id, error_stage, error_exit_status, error_reason
  FROM mam_tumour
 WHERE status = 'failed'
 ORDER BY case_id;
