-- The warehouse's own tables: the import ledger and the raw values of every loaded version.
-- Run on every build; idempotent. Models (staging/intermediate/marts) are rebuilt from these.
-- Every table and column is declared in warehouse.yml beside this file (its grain, key and
-- zh / en documentation, which the model runner writes as the warehouse's comments).
create schema if not exists ops;
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;

-- one row per file version received (by content); status: loaded | rejected | superseded | duplicate
create table if not exists ops.imports (
    sha256          varchar not null,
    file_name       varchar not null,
    unit_code       varchar,
    period          varchar,
    status          varchar not null,
    received_at     timestamptz not null,
    imported_at     timestamptz not null,
    archive_path    varchar not null,
    n_values        integer,
    n_errors        integer not null,
    n_warnings      integer not null,
    first_reason    varchar,
    superseded_by   varchar,
    feedback_path   varchar
);
-- Columns added after the first release: a warehouse made by an older huizong gains them here.
alter table ops.imports add column if not exists rules_version varchar;  -- huizong/versions.py
-- the moment a pass first saw the file; received_at is its mtime but never later than this
alter table ops.imports add column if not exists first_seen_at timestamptz;

-- one row per arrival in the inbox: every regular file that landed (a version of ops.imports, or
-- a byte-identical copy of one under another name), and every link or special file refused
create table if not exists ops.arrivals (
    inbox_path      varchar not null,
    sha256          varchar,
    status          varchar not null,
    size_bytes      bigint,
    modified_at     timestamptz,
    first_seen_at   timestamptz not null,
    reason          varchar
);
-- a warehouse older than ops.arrivals: every recorded version arrived under its own name
insert into ops.arrivals
select file_name, sha256, 'received', null, received_at, coalesce(first_seen_at, imported_at), null
from ops.imports
where not exists (select 1 from ops.arrivals);

-- one row per problem found in a file; cell is an Excel reference ('' when it is the whole file)
create table if not exists ops.import_errors (
    sha256          varchar not null,
    sheet           varchar not null,
    cell            varchar not null,
    indicator_code  varchar not null,
    check_name      varchar not null,
    severity        varchar not null,
    message         varchar not null
);

-- one row per figure a recorded version explains in its optional 情况说明 sheet (FORM.md, the
-- project's copy): the sheet and cell explained, the indicator they hold, the clerk's text, and
-- the cell of 情况说明 it was written in
create table if not exists ops.explanations (
    sha256          varchar not null,
    sheet           varchar not null,
    cell            varchar not null,
    indicator_code  varchar not null,
    explanation     varchar not null,
    source_cell     varchar not null
);

-- one row per decision of the office on a warning (huizong review), append-only: a warning is
-- known by (unit_code, period, indicator_code, sheet, cell), never by a file, so that decisions
-- outlive reruns and rebuilds; sha256 and value are the version in force and its figure when
-- decided. The latest decision of a warning is the one with the highest review_id.
create table if not exists ops.reviews (
    review_id       integer not null,   -- 1, 2, ... in the order the decisions were recorded
    unit_code       varchar not null,   -- the submitting town or department
    period          varchar not null,
    indicator_code  varchar not null,
    sheet           varchar not null,
    cell            varchar not null,
    decision        varchar not null,   -- accepted | returned
    note            varchar,            -- the office's note (a return's reason)
    decided_by      varchar not null,
    decided_at      timestamptz not null,
    sha256          varchar not null,
    value           decimal(18, 2)
);

-- one row per value of every loaded version (superseded ones included: history is kept)
create table if not exists raw.submitted_values (
    sha256          varchar not null,
    unit_code       varchar not null,
    indicator_code  varchar not null,
    value           decimal(18, 2),
    level           varchar,
    sheet           varchar not null,
    cell            varchar not null
);

-- one row per build of the models that was published; models_version: huizong/versions.py
create table if not exists ops.builds (
    built_at        timestamptz not null,
    models_version  varchar not null
);

-- The inputs of each year as the published models were built from them (sql/setup/
-- year_inputs.sql): a build makes the marts built by year (`incremental_by: year`) again only
-- for the years whose inputs changed since (huizong/models.py).
create table if not exists ops.year_inputs (
    year            integer not null,
    fingerprint     varchar not null
);

-- Sign-off and lock (huizong/signoff.py). One row per sign-off or unlock of a year: who, when,
-- why (an unlock's reason), and the published build it was made on. A year is locked while its
-- latest row is `signed`.
create table if not exists ops.signoffs (
    signoff_id      integer not null,   -- 1, 2, ... in the order the actions were recorded
    year            integer not null,
    action          varchar not null,   -- signed | unlocked
    done_by         varchar not null,
    done_at         timestamptz not null,
    reason          varchar,            -- why the year was unlocked; null for a sign-off
    built_at        timestamptz,        -- the latest ops.builds row when it was recorded
    models_version  varchar,
    archive_path    varchar             -- signed/2019/1: the signed copies; null for an unlock
);

-- one row per summary file a sign-off signed: its hash, and its copy under signed/<year>/<n>/
create table if not exists ops.signed_files (
    signoff_id      integer not null,
    year            integer not null,
    file_name       varchar not null,   -- summary_2019.md, .html, .docx
    sha256          varchar not null,
    size_bytes      bigint not null,
    archive_path    varchar not null
);

-- one row per figure of marts.summary_figures of the signed year, as signed
create table if not exists ops.signed_figures (
    signoff_id          integer not null,
    year                integer not null,
    indicator_code      varchar not null,
    slot                integer not null,
    value               double,             -- as marts.summary_figures.value
    figure              varchar not null,
    quarters_valid      bigint not null,
    quarters_expected   bigint not null
);

-- one row per file version of the signed year recorded at the sign-off, with its status then:
-- the `loaded` ones are the versions in force that the lock keeps in force (resolve_versions.sql)
create table if not exists ops.signed_versions (
    signoff_id      integer not null,
    year            integer not null,
    sha256          varchar not null,
    unit_code       varchar not null,
    period          varchar not null,
    status          varchar not null,
    superseded_by   varchar
);

-- one row per locked year: the years whose latest sign-off action is `signed`
create or replace view ops.locked_years as
select year, signoff_id, done_by as signed_by, done_at as signed_at, built_at, models_version, archive_path
from (
    select *, row_number() over (partition by year order by signoff_id desc) as latest
    from ops.signoffs
)
where latest = 1 and action = 'signed';
