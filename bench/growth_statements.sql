-- Mean ms per call of the pipeline's statements in the databases of `make bench-pipeline ARGS="--stored ..."` (pg_stat_statements loaded;
-- `psql -v d0=EMPTY_DB -v d1=100K_DB -v d2=1M_DB -f bench/growth_statements.sql`): top 15 by total time in the largest store.
WITH s AS (
  SELECT d.datname, left(regexp_replace(s.query, '\s+', ' ', 'g'), 110) AS q, sum(calls) AS calls, sum(total_exec_time) AS total
  FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
  WHERE d.datname LIKE 'bench_stack%' AND s.query NOT ILIKE '%\_fill\_%' AND s.query NOT ILIKE 'CREATE%' AND s.query NOT ILIKE 'VACUUM%'
    AND s.query NOT ILIKE '%pg_%' AND s.query NOT ILIKE 'SELECT count(*)%' AND s.query NOT ILIKE 'DROP%' AND s.query NOT ILIKE '%setval%'
  GROUP BY 1, 2)
SELECT s.q,
  round((max(total / calls) FILTER (WHERE datname = :'d0'))::numeric, 3) AS ms_empty,
  round((max(total / calls) FILTER (WHERE datname = :'d1'))::numeric, 3) AS ms_100k,
  round((max(total / calls) FILTER (WHERE datname = :'d2'))::numeric, 3) AS ms_1m,
  max(calls) FILTER (WHERE datname = :'d2') AS calls_1m
FROM s GROUP BY s.q ORDER BY max(total) FILTER (WHERE datname = :'d2') DESC NULLS LAST LIMIT 15;
